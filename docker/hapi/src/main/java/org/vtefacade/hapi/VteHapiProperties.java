package org.vtefacade.hapi;

import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The few knobs the facade needs, bound from {@code vte.hapi.*}. application.yaml maps each one
 * to a short HAPI_* environment variable, which is what operators and the launcher use.
 */
@ConfigurationProperties(prefix = "vte.hapi")
public class VteHapiProperties {

	/** Page size when the client sends no _count. */
	private int defaultPageSize = 20;

	/** Upper bound for _count; larger requests are clamped to it, never rejected. */
	private int maxPageSize = 500;

	/**
	 * Id strategy for server-assigned ids (POST). Clients may PUT any id (ANY strategy), so
	 * HAPI recommends UUIDs here: sequential numbers could collide with client-chosen numeric ids.
	 */
	private JpaStorageSettings.IdStrategyEnum serverIdStrategy = JpaStorageSettings.IdStrategyEnum.UUID;

	/**
	 * Fixed base URL written into Bundle links and Location/Content-Location headers. Blank means
	 * "derive it from each incoming request", which is right behind a transparent proxy.
	 */
	private String serverAddress = "";

	/** Reject writes of resources that declare meta.profile but fail validation against it. */
	private boolean validateDeclaredProfiles = true;

	/**
	 * Shared secret of trusted writers (the facade's forwarder): a create/update whose request
	 * carries it in {@link TrustedWrites#HEADER} skips write-time profile validation. Blank: no
	 * writer is trusted, everything that declares a known profile is validated.
	 */
	private String trustedWriteKey = "";

	/**
	 * HAPI's mass ingestion mode (JpaStorageSettings#setMassIngestionMode): hash-based change
	 * detection on update and extra id caching. Chosen by measurement, see README "Ingest".
	 */
	private boolean massIngestionMode = false;

	/** One INFO line per request (operation, URL, status, time). */
	private boolean requestLogging = true;

	/**
	 * Let single-chunk Batch2 jobs (a typical $export here) advance as soon as a step finishes
	 * instead of waiting for the once-a-minute maintenance pass. Safe on a single node.
	 */
	private boolean jobFastTracking = true;

	/** Interval of Batch2's maintenance pass, which starts and advances jobs ($export, $reindex). */
	private long jobMaintenanceIntervalMs = 5000;

	/** How long $export output Binaries are kept before the cleanup job deletes them. */
	private int bulkExportRetentionHours = 2;

	/*
	 * Request body limits (IntakeLimitInterceptor). Each is looser than the facade's own check
	 * (facade/settings.py fhir_max_*; tests/integration keeps them so), so anything the facade
	 * forwards passes, while a request that bypasses the facade cannot wedge the validator.
	 */

	/** Objects and arrays (XML: elements) nested in one body; the facade allows 32. */
	private int maxJsonDepth = 64;

	/**
	 * Extension steps on one path. The facade allows what the guide implies (4 today:
	 * profiles/fsh-generated/extension-nesting.json); validation at 6 costs ~0.2 CPU-s, at 12
	 * about 3 CPU-s, and it grows super-linearly from there.
	 */
	private int maxExtensionNesting = 6;

	/** Elements of one resource (a Bundle entry's resource on its own); the facade allows 5,000. */
	private int maxElementsPerResource = 20_000;

	/** Elements of one request body; the facade allows 100,000 (plus the tags it adds). */
	private int maxElementsPerRequest = 250_000;

	/** Characters of one string value; FHIR's own cap is 1 MB, the facade allows 65,536. */
	private int maxStringLength = 1_048_576;

	public int getDefaultPageSize() {
		return defaultPageSize;
	}

	public void setDefaultPageSize(int theDefaultPageSize) {
		defaultPageSize = theDefaultPageSize;
	}

	public int getMaxPageSize() {
		return maxPageSize;
	}

	public void setMaxPageSize(int theMaxPageSize) {
		maxPageSize = theMaxPageSize;
	}

	public JpaStorageSettings.IdStrategyEnum getServerIdStrategy() {
		return serverIdStrategy;
	}

	public void setServerIdStrategy(JpaStorageSettings.IdStrategyEnum theServerIdStrategy) {
		serverIdStrategy = theServerIdStrategy;
	}

	public String getServerAddress() {
		return serverAddress;
	}

	public void setServerAddress(String theServerAddress) {
		serverAddress = theServerAddress;
	}

	public boolean isValidateDeclaredProfiles() {
		return validateDeclaredProfiles;
	}

	public void setValidateDeclaredProfiles(boolean theValidateDeclaredProfiles) {
		validateDeclaredProfiles = theValidateDeclaredProfiles;
	}

	public String getTrustedWriteKey() {
		return trustedWriteKey;
	}

	public void setTrustedWriteKey(String theTrustedWriteKey) {
		trustedWriteKey = theTrustedWriteKey == null ? "" : theTrustedWriteKey;
	}

	public boolean isMassIngestionMode() {
		return massIngestionMode;
	}

	public void setMassIngestionMode(boolean theMassIngestionMode) {
		massIngestionMode = theMassIngestionMode;
	}

	public boolean isRequestLogging() {
		return requestLogging;
	}

	public void setRequestLogging(boolean theRequestLogging) {
		requestLogging = theRequestLogging;
	}

	public boolean isJobFastTracking() {
		return jobFastTracking;
	}

	public void setJobFastTracking(boolean theJobFastTracking) {
		jobFastTracking = theJobFastTracking;
	}

	public long getJobMaintenanceIntervalMs() {
		return jobMaintenanceIntervalMs;
	}

	public void setJobMaintenanceIntervalMs(long theJobMaintenanceIntervalMs) {
		jobMaintenanceIntervalMs = theJobMaintenanceIntervalMs;
	}

	public IntakeLimitInterceptor.Limits intakeLimits() {
		return new IntakeLimitInterceptor.Limits(
				maxJsonDepth, maxExtensionNesting, maxElementsPerResource, maxElementsPerRequest, maxStringLength);
	}

	public int getMaxJsonDepth() {
		return maxJsonDepth;
	}

	public void setMaxJsonDepth(int theMaxJsonDepth) {
		maxJsonDepth = theMaxJsonDepth;
	}

	public int getMaxExtensionNesting() {
		return maxExtensionNesting;
	}

	public void setMaxExtensionNesting(int theMaxExtensionNesting) {
		maxExtensionNesting = theMaxExtensionNesting;
	}

	public int getMaxElementsPerResource() {
		return maxElementsPerResource;
	}

	public void setMaxElementsPerResource(int theMaxElementsPerResource) {
		maxElementsPerResource = theMaxElementsPerResource;
	}

	public int getMaxElementsPerRequest() {
		return maxElementsPerRequest;
	}

	public void setMaxElementsPerRequest(int theMaxElementsPerRequest) {
		maxElementsPerRequest = theMaxElementsPerRequest;
	}

	public int getMaxStringLength() {
		return maxStringLength;
	}

	public void setMaxStringLength(int theMaxStringLength) {
		maxStringLength = theMaxStringLength;
	}

	public int getBulkExportRetentionHours() {
		return bulkExportRetentionHours;
	}

	public void setBulkExportRetentionHours(int theBulkExportRetentionHours) {
		bulkExportRetentionHours = theBulkExportRetentionHours;
	}
}
