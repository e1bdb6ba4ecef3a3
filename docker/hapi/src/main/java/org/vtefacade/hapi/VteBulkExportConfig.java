package org.vtefacade.hapi;

import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Bulk Data $export as the research extraction channel (facade/research): system, Patient and
 * Group level exports are served by the BulkDataExportProvider registered in VteFhirServerConfig;
 * this class only tunes how export jobs behave, and is kept apart so it can be read (and merged)
 * on its own.
 *
 * <ul>
 *   <li><b>No job reuse.</b> HAPI answers a second identical $export with the first job's output
 *   (hapi-fhir#4013 describes it returning nothing once the Binaries were purged). Each research
 *   extract must reflect the data at its own kick-off, and a benchmark must time real work, so
 *   every kick-off starts a new job ({@code HAPI_BULK_EXPORT_JOB_REUSE}, default false).</li>
 *   <li><b>Output file size.</b> Resources per NDJSON Binary and the byte cap per file are
 *   configurable ({@code HAPI_BULK_EXPORT_FILE_MAX_RESOURCES}, {@code HAPI_BULK_EXPORT_FILE_MAX_BYTES});
 *   HAPI's defaults apply when unset.</li>
 * </ul>
 *
 * Applied to the JpaStorageSettings bean after VteJpaConfig built it, so that class stays
 * unaware of exports.
 */
@Configuration
public class VteBulkExportConfig {

	private static final Logger ourLog = LoggerFactory.getLogger(VteBulkExportConfig.class);

	@Bean
	public static BeanPostProcessor bulkExportSettings(Environment theEnvironment) {
		return new BeanPostProcessor() {
			@Override
			public Object postProcessAfterInitialization(Object theBean, String theBeanName) {
				if (theBean instanceof JpaStorageSettings settings) {
					apply(settings, theEnvironment);
				}
				return theBean;
			}
		};
	}

	static void apply(JpaStorageSettings theSettings, Environment theEnvironment) {
		boolean reuse = theEnvironment.getProperty("HAPI_BULK_EXPORT_JOB_REUSE", Boolean.class, false);
		theSettings.setEnableBulkExportJobReuse(reuse);
		Integer maxResources = theEnvironment.getProperty("HAPI_BULK_EXPORT_FILE_MAX_RESOURCES", Integer.class);
		if (maxResources != null) {
			theSettings.setBulkExportFileMaximumCapacity(maxResources);
		}
		Long maxBytes = theEnvironment.getProperty("HAPI_BULK_EXPORT_FILE_MAX_BYTES", Long.class);
		if (maxBytes != null) {
			theSettings.setBulkExportFileMaximumSize(maxBytes);
		}
		ourLog.info(
				"Bulk export: job reuse {}, max {} resources / {} bytes per file",
				reuse ? "ON" : "OFF",
				theSettings.getBulkExportFileMaximumCapacity(),
				theSettings.getBulkExportFileMaximumSize());
	}
}
