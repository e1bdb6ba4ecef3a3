package org.vtefacade.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import java.util.Set;

/**
 * Clears the validation support chain's caches after a StructureDefinition, ValueSet or
 * CodeSystem is created or deleted.
 *
 * <p>HAPI 8.8 only does this when a StructureDefinition is <em>updated</em> (PUT). The chain
 * also caches "not found", so a profile POSTed after a resource had referenced it stayed unknown
 * to $validate and to write-time validation until the cache expired. Clearing happens after
 * commit, so a concurrent validation cannot re-cache the pre-commit state.
 */
@Interceptor
public class ConformanceCacheInvalidatingInterceptor {

	private static final Set<String> CONFORMANCE_TYPES = Set.of("StructureDefinition", "ValueSet", "CodeSystem");

	private final FhirContext myFhirContext;
	private final IValidationSupport myValidationSupport;

	public ConformanceCacheInvalidatingInterceptor(FhirContext theFhirContext, IValidationSupport theValidationSupport) {
		myFhirContext = theFhirContext;
		myValidationSupport = theValidationSupport;
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
	public void created(IBaseResource theResource) {
		invalidateIfConformance(theResource);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_DELETED)
	public void deleted(IBaseResource theResource) {
		invalidateIfConformance(theResource);
	}

	private void invalidateIfConformance(IBaseResource theResource) {
		if (theResource == null || !CONFORMANCE_TYPES.contains(myFhirContext.getResourceType(theResource))) {
			return;
		}
		if (TransactionSynchronizationManager.isSynchronizationActive()) {
			TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
				@Override
				public void afterCommit() {
					myValidationSupport.invalidateCaches();
				}
			});
		} else {
			myValidationSupport.invalidateCaches();
		}
	}
}
