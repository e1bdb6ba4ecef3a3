package org.vtefacade.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.IInstanceValidatorModule;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IPrimitiveType;

/**
 * Rejects a create/update whose resource declares a {@code meta.profile} known to this server
 * but has validation errors (against the declared profiles and the base spec): 422 plus the
 * validator's OperationOutcome.
 *
 * <p>Why not HAPI's RepositoryValidatingInterceptor as is: its "validate to declared profiles"
 * rule is configured per resource type and then validates <em>every</em> write of that type,
 * profiled or not. The facade writes many unprofiled resources during ingestion, and the instance
 * validator costs milliseconds per resource, so validation here runs only for resources that
 * claim a profile. Profiles are looked up through HAPI's validation support chain, so a
 * StructureDefinition PUT into the server is enforced from the next write on. A resource whose
 * declared profiles are all unknown here is stored unvalidated: the facade may stamp profiles
 * of IGs that are not loaded (no package download at run time), and that must not block writes.
 *
 * <p>Trusted writes ({@link TrustedWrites}: the facade's forwarder presenting the shared key) are
 * not validated here: the facade guarantees their conformance itself (mapping engine over
 * dictionary-validated records, a property test against this server's $validate, and sampled
 * $validate of its own writes in production). Every other writer, including the facade's FHIR
 * door relaying hospital Bundles, is validated as before.
 *
 * <p>422 rather than RepositoryValidatingInterceptor's 412: FHIR's HTTP section names 422 for
 * "the proposed resource violated applicable FHIR profiles".
 */
@Interceptor
public class DeclaredProfileValidatingInterceptor {

	/** Message id the core validator uses for a meta.profile it cannot resolve. */
	private static final String UNKNOWN_PROFILE = "Validation_VAL_Profile_Unknown";

	private final FhirValidator myValidator;
	private final IValidationSupport myValidationSupport;
	private final TrustedWrites myTrustedWrites;

	public DeclaredProfileValidatingInterceptor(
			FhirContext theFhirContext,
			IValidationSupport theValidationSupport,
			IInstanceValidatorModule theModule,
			TrustedWrites theTrustedWrites) {
		myValidationSupport = theValidationSupport;
		myTrustedWrites = theTrustedWrites;
		// Same validator module (and thus the same support chain) as the $validate operation.
		myValidator = theFhirContext.newValidator();
		myValidator.registerValidatorModule(theModule);
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void beforeCreate(IBaseResource theResource, RequestDetails theRequest) {
		if (!myTrustedWrites.trusts(theRequest)) {
			validateIfProfiled(theResource);
		}
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void beforeUpdate(IBaseResource theOldResource, IBaseResource theNewResource, RequestDetails theRequest) {
		if (!myTrustedWrites.trusts(theRequest)) {
			validateIfProfiled(theNewResource);
		}
	}

	private void validateIfProfiled(IBaseResource theResource) {
		if (theResource == null || !declaresKnownProfile(theResource)) {
			return;
		}
		ValidationResult result = myValidator.validateWithResult(theResource);
		for (SingleValidationMessage msg : result.getMessages()) {
			if (msg.getSeverity() != null
					&& msg.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal()
					&& !UNKNOWN_PROFILE.equals(msg.getMessageId())) {
				throw new UnprocessableEntityException(
						"Resource violates its declared profile(s): " + msg.getLocationString() + ": "
								+ msg.getMessage(),
						result.toOperationOutcome());
			}
		}
	}

	private boolean declaresKnownProfile(IBaseResource theResource) {
		for (IPrimitiveType<String> profile : theResource.getMeta().getProfile()) {
			String url = profile.getValueAsString();
			if (url != null && myValidationSupport.fetchStructureDefinition(url) != null) {
				return true;
			}
		}
		return false;
	}
}
