package org.vtefacade.hapi;

import ca.uhn.fhir.batch2.jobs.bulkmodify.reindex.ReindexProvider;
import ca.uhn.fhir.batch2.jobs.export.BulkDataExportProvider;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.provider.IJpaSystemProvider;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.ValueSetOperationProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.HardcodedServerAddressStrategy;
import ca.uhn.fhir.rest.server.IncomingRequestAddressStrategy;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.interceptor.LoggingInterceptor;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import ca.uhn.fhir.validation.IInstanceValidatorModule;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * REST side: the HAPI RestfulServer servlet at /fhir/* with the JPA resource providers and the
 * operations the facade uses ($validate comes with every resource provider; $export, $reindex,
 * ValueSet $expand/$validate-code are registered here).
 */
@Configuration
public class VteFhirServerConfig {

	@Bean
	public RestfulServer restfulServer(
			IFhirSystemDao<?, ?> theSystemDao,
			ResourceProviderFactory theResourceProviderFactory,
			IJpaSystemProvider theSystemProvider,
			JpaStorageSettings theStorageSettings,
			ISearchParamRegistry theSearchParamRegistry,
			IValidationSupport theValidationSupport,
			DatabaseBackedPagingProvider thePagingProvider,
			BulkDataExportProvider theBulkDataExportProvider,
			ReindexProvider theReindexProvider,
			ValueSetOperationProvider theValueSetOperationProvider,
			VteHapiProperties theProps) {
		FhirContext ctx = theSystemDao.getContext();
		RestfulServer server = new RestfulServer(ctx);

		server.registerProviders(theResourceProviderFactory.createProviders());
		server.registerProvider(theSystemProvider); // transaction/batch, history, $meta
		server.registerProvider(theBulkDataExportProvider);
		server.registerProvider(theReindexProvider);
		server.registerProvider(theValueSetOperationProvider);

		JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(
				server, theSystemDao, theStorageSettings, theSearchParamRegistry, theValidationSupport);
		capabilities.setImplementationDescription("VTE facade HAPI FHIR R4 server");
		server.setServerConformanceProvider(capabilities);

		server.setPagingProvider(thePagingProvider);
		// The consumer is the facade, not a browser: compact JSON unless _pretty=true is asked for.
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		server.setDefaultPrettyPrint(false);

		String address = theProps.getServerAddress();
		if (address != null && !address.isBlank()) {
			server.setServerAddressStrategy(new HardcodedServerAddressStrategy(address.trim()));
		} else {
			server.setServerAddressStrategy(new IncomingRequestAddressStrategy());
		}

		// Before any handler parses the body: see the class comment for why.
		server.registerInterceptor(new IntakeLimitInterceptor(ctx, theProps.intakeLimits()));

		if (theProps.isRequestLogging()) {
			LoggingInterceptor requestLog = new LoggingInterceptor();
			requestLog.setLoggerName("fhir.request");
			// No query parameters or bodies: searches carry patient identifiers, which don't
			// belong in a log file.
			requestLog.setMessageFormat(
					"${requestVerb} ${idOrResourceName} ${operationType} ${operationName} ${processingTimeMillis}ms req=${requestId}");
			requestLog.setLogExceptions(false);
			requestLog.setErrorMessageFormat(
					"FAILED ${requestVerb} ${idOrResourceName} ${operationType} ${operationName} req=${requestId}: ${exceptionMessage}");
			server.registerInterceptor(requestLog);
		}
		return server;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer theServer) {
		ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(theServer, "/fhir/*");
		reg.setName("fhir");
		// Initialise HAPI at start-up so the first real request (and the readiness probe on
		// /fhir/metadata) doesn't pay for building the CapabilityStatement and provider tables.
		reg.setLoadOnStartup(1);
		return reg;
	}

	/** See the class comment: makes newly POSTed profiles visible to validation at once. */
	@Bean
	public ConformanceCacheInvalidatingInterceptor conformanceCacheInvalidatingInterceptor(
			FhirContext theFhirContext,
			IValidationSupport theValidationSupport,
			IInterceptorService theInterceptorService) {
		ConformanceCacheInvalidatingInterceptor interceptor =
				new ConformanceCacheInvalidatingInterceptor(theFhirContext, theValidationSupport);
		theInterceptorService.registerInterceptor(interceptor);
		return interceptor;
	}

	/**
	 * Write-time profile enforcement, registered with the storage-level interceptor service so
	 * that it sees every create/update (plain, conditional, or inside a transaction).
	 */
	@Bean
	@ConditionalOnProperty(prefix = "vte.hapi", name = "validate-declared-profiles", havingValue = "true")
	public DeclaredProfileValidatingInterceptor declaredProfileValidatingInterceptor(
			FhirContext theFhirContext,
			IValidationSupport theValidationSupport,
			@Qualifier("myInstanceValidator") IInstanceValidatorModule theInstanceValidator,
			IInterceptorService theInterceptorService,
			VteHapiProperties theProps) {
		DeclaredProfileValidatingInterceptor interceptor = new DeclaredProfileValidatingInterceptor(
				theFhirContext,
				theValidationSupport,
				theInstanceValidator,
				new TrustedWrites(theProps.getTrustedWriteKey()));
		theInterceptorService.registerInterceptor(interceptor);
		return interceptor;
	}

	/**
	 * The validation policy of the instance validator that $validate and write-time validation
	 * share: HAPI's default except for proportion scores without a value (see the advisor).
	 */
	@Bean
	public MeasureScorePolicyAdvisor measureScorePolicyAdvisor(
			@Qualifier("myInstanceValidator") IInstanceValidatorModule theInstanceValidator) {
		MeasureScorePolicyAdvisor advisor = new MeasureScorePolicyAdvisor();
		((FhirInstanceValidator) theInstanceValidator).setValidatorPolicyAdvisor(advisor);
		return advisor;
	}
}
