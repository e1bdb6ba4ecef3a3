package org.vtefacade.hapi;

import ca.uhn.fhir.batch2.api.IJobMaintenanceService;
import ca.uhn.fhir.batch2.maintenance.JobMaintenanceServiceImpl;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.IDaoRegistry;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.binary.api.IBinaryStorageSvc;
import ca.uhn.fhir.jpa.binstore.DatabaseBinaryContentStorageSvcImpl;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.config.util.ResourceCountCacheUtil;
import ca.uhn.fhir.jpa.dao.FulltextSearchSvcImpl;
import ca.uhn.fhir.jpa.dao.IFulltextSearchSvc;
import ca.uhn.fhir.jpa.dao.search.HSearchSortHelperImpl;
import ca.uhn.fhir.jpa.dao.search.IHSearchSortHelper;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.provider.DaoRegistryResourceSupportedSvc;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.search.IStaleSearchDeletingSvc;
import ca.uhn.fhir.jpa.search.StaleSearchDeletingSvcImpl;
import ca.uhn.fhir.jpa.util.ResourceCountCache;
import ca.uhn.fhir.rest.api.IResourceSupportedSvc;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.core.env.Environment;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * Storage side of the server: HAPI storage settings, the Hibernate entity manager over Spring
 * Boot's DataSource, and the handful of beans HAPI's JpaConfig expects the application to supply.
 */
@Configuration
@EnableConfigurationProperties(VteHapiProperties.class)
public class VteJpaConfig {

	private static final Logger ourLog = LoggerFactory.getLogger(VteJpaConfig.class);

	static final String H2_DIALECT = "ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect";
	static final String POSTGRES_DIALECT = "ca.uhn.fhir.jpa.model.dialect.HapiFhirPostgresDialect";

	@Bean
	public JpaStorageSettings storageSettings(VteHapiProperties theProps) {
		JpaStorageSettings s = new JpaStorageSettings();

		// Indicator counts are taken right after ingestion; a cached search result (HAPI reuses
		// identical searches for 60 s by default) would silently return the old count.
		s.setReuseCachedSearchResultsForMillis(null);

		// A reference must point at a resource that exists; never invent empty placeholders.
		s.setEnforceReferentialIntegrityOnWrite(true);
		s.setAutoCreatePlaceholderReferenceTargets(false);
		s.setAllowExternalReferences(false);

		// The facade PUTs resources under ids it derives from hospital keys (ANY allows numeric
		// ones too); POSTs still get server-assigned ids.
		s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ANY);
		s.setResourceServerIdStrategy(theProps.getServerIdStrategy());

		// New SearchParameters are applied to existing data by a Batch2 reindex job.
		s.setMarkResourcesForReindexingUponSearchParameterChange(true);

		// Bulk loading (README "Ingest"): hash-based change detection on update, extra id caching.
		s.setMassIngestionMode(theProps.isMassIngestionMode());

		s.setBulkExportFileRetentionPeriodHours(theProps.getBulkExportRetentionHours());
		s.setJobFastTrackingEnabled(theProps.isJobFastTracking());

		ourLog.info(
				"Storage: search reuse OFF, referential integrity ON, client ids ANY, server ids {}, mass ingestion {}",
				theProps.getServerIdStrategy(),
				theProps.isMassIngestionMode() ? "ON" : "OFF");
		return s;
	}

	/** Partitioning stays off; hospitals are told apart by data (identifier systems, tags). */
	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	/**
	 * HAPI needs its own EntityManagerFactory subclass (entity scanning, dialect-aware id
	 * generation). Hibernate properties come from spring.jpa.properties.*; the dialect follows
	 * the JDBC URL unless set explicitly, so switching to PostgreSQL is one env var.
	 */
	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			DataSource theDataSource,
			ConfigurableListableBeanFactory theBeanFactory,
			FhirContext theFhirContext,
			JpaStorageSettings theStorageSettings,
			Environment theEnvironment) {
		LocalContainerEntityManagerFactoryBean emf =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(theBeanFactory, theFhirContext, theStorageSettings);
		emf.setPersistenceUnitName("HAPI_PU");
		emf.setDataSource(theDataSource);

		Map<String, String> configured = Binder.get(theEnvironment)
				.bind("spring.jpa.properties", Bindable.mapOf(String.class, String.class))
				.orElseGet(HashMap::new);
		Properties props = new Properties();
		props.putAll(configured);
		// Safe defaults, each overridable from spring.jpa.properties.*
		props.putIfAbsent("hibernate.hbm2ddl.auto", "update");
		props.putIfAbsent("hibernate.search.enabled", "false");
		props.putIfAbsent("hibernate.format_sql", "false");
		props.putIfAbsent("hibernate.show_sql", "false");
		props.putIfAbsent("hibernate.jdbc.batch_size", "20");
		props.putIfAbsent("hibernate.cache.use_query_cache", "false");
		props.putIfAbsent("hibernate.cache.use_second_level_cache", "false");
		props.putIfAbsent("hibernate.cache.use_structured_entries", "false");
		props.putIfAbsent("hibernate.cache.use_minimal_puts", "false");

		String url = theEnvironment.getProperty("spring.datasource.url", "");
		String dialect = props.getProperty("hibernate.dialect");
		if (dialect == null || dialect.isBlank()) {
			dialect = dialectForJdbcUrl(url);
			props.setProperty("hibernate.dialect", dialect);
		}
		ourLog.info("Database: {} with dialect {}", redact(url), dialect);
		emf.setJpaProperties(props);
		return emf;
	}

	/** Picks HAPI's tuned Hibernate dialect for the two databases this server supports. */
	static String dialectForJdbcUrl(String theJdbcUrl) {
		String url = theJdbcUrl == null ? "" : theJdbcUrl.toLowerCase(Locale.ROOT);
		if (url.startsWith("jdbc:postgresql:")) {
			return POSTGRES_DIALECT;
		}
		if (url.startsWith("jdbc:h2:")) {
			return H2_DIALECT;
		}
		throw new IllegalStateException("Cannot infer a Hibernate dialect from JDBC URL '" + redact(theJdbcUrl)
				+ "'; set spring.jpa.properties.hibernate.dialect (env HAPI_HIBERNATE_DIALECT)");
	}

	/** JDBC URLs may carry a password parameter; keep it out of the log. */
	private static String redact(String theUrl) {
		return theUrl == null ? "" : theUrl.replaceAll("(?i)(password=)[^&;]*", "$1***");
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory theEntityManagerFactory) {
		return new JpaTransactionManager(theEntityManagerFactory);
	}

	/** Paging through DB-stored search results; _count above the maximum is clamped. */
	@Bean
	public DatabaseBackedPagingProvider databaseBackedPagingProvider(VteHapiProperties theProps) {
		DatabaseBackedPagingProvider p = new DatabaseBackedPagingProvider();
		p.setDefaultPageSize(theProps.getDefaultPageSize());
		p.setMaximumPageSize(theProps.getMaxPageSize());
		return p;
	}

	/** $export writes its NDJSON output as Binary resources; keep their bytes in the database. */
	@Bean
	public IBinaryStorageSvc binaryStorageSvc() {
		return new DatabaseBinaryContentStorageSvcImpl();
	}

	/**
	 * Batch2 starts queued jobs only on its maintenance pass, every 60 s by default, so an
	 * $export on an idle server sat for up to a minute before doing anything. A pass over a
	 * handful of job rows is cheap; run it more often. (Set here, before the scheduler registers
	 * the job when the context finishes refreshing.)
	 */
	@Bean
	public SmartInitializingSingleton batch2MaintenanceInterval(
			IJobMaintenanceService theMaintenanceService, VteHapiProperties theProps) {
		return () -> {
			if (theMaintenanceService instanceof JobMaintenanceServiceImpl impl) {
				impl.setScheduledJobFrequencyMillis(theProps.getJobMaintenanceIntervalMs());
			}
		};
	}

	// --- Beans HAPI's JpaConfig autowires but leaves to the application (as its starter does).
	// Full-text search itself is disabled (hibernate.search.enabled=false); these just satisfy
	// the wiring.

	@Bean
	public IFulltextSearchSvc fullTextSearchSvc() {
		return new FulltextSearchSvcImpl();
	}

	@Bean
	public IHSearchSortHelper hSearchSortHelper(ISearchParamRegistry theSearchParamRegistry) {
		return new HSearchSortHelperImpl(theSearchParamRegistry);
	}

	@Bean
	public IStaleSearchDeletingSvc staleSearchDeletingSvc() {
		return new StaleSearchDeletingSvcImpl();
	}

	@Bean
	public IResourceSupportedSvc resourceSupportedSvc(IDaoRegistry theDaoRegistry) {
		return new DaoRegistryResourceSupportedSvc(theDaoRegistry);
	}

	@Bean(name = "myResourceCountsCache")
	public ResourceCountCache resourceCountsCache(IFhirSystemDao<?, ?> theSystemDao) {
		return ResourceCountCacheUtil.newResourceCountCache(theSystemDao);
	}
}
