package org.vtefacade.hapi;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration;
import org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration;
import org.springframework.context.annotation.Import;

import java.nio.file.Path;
import java.util.Map;

/**
 * Entry point of the VTE facade's HAPI FHIR JPA server (FHIR R4 at /fhir).
 *
 * <p>HAPI's JPA jars drag Thymeleaf, Quartz and an Elasticsearch client onto the classpath;
 * Spring Boot would auto-configure each of them (a second Quartz scheduler, a REST client
 * pointing at localhost:9200, a template engine) although HAPI wires what it needs itself,
 * so those auto-configurations are switched off.
 *
 * <p>Imported HAPI configs: JpaR4Config (DAOs, search, validation chain, bulk-export storage),
 * JpaBatch2Config + Batch2JobsConfig (the job engine behind $export and $reindex) and
 * ThreadPoolFactoryConfig (executors those jobs use), and SubscriptionChannelConfig: despite the
 * name it is only HAPI's in-memory message channel, which Batch2 uses to hand out work chunks.
 * No subscription matching/delivery, MDM, CR or IG-package configs: the facade uses none of them.
 */
@SpringBootApplication(
		exclude = {
			ThymeleafAutoConfiguration.class,
			QuartzAutoConfiguration.class,
			ElasticsearchRestClientAutoConfiguration.class
		})
@Import({
	JpaR4Config.class,
	JpaBatch2Config.class,
	Batch2JobsConfig.class,
	ThreadPoolFactoryConfig.class,
	SubscriptionChannelConfig.class
})
public class VteHapiApplication {

	/** Environment variable naming the directory that holds the embedded H2 database. */
	static final String DATA_DIR_ENV = "HAPI_DATA_DIR";

	static final String DEFAULT_DATA_DIR = "var/hapi-h2";

	public static void main(String[] args) {
		SpringApplication app = new SpringApplication(VteHapiApplication.class);
		// H2 refuses paths that are "implicitly relative" (e.g. "data/x"), so resolve the data
		// directory to an absolute path once, here, instead of asking operators to write "./".
		// Passed as a *default* property: anything set in yaml, env or on the command line wins.
		String dataDir = System.getenv().getOrDefault(DATA_DIR_ENV, DEFAULT_DATA_DIR);
		if (dataDir.isBlank()) {
			dataDir = DEFAULT_DATA_DIR;
		}
		String absolute = Path.of(dataDir).toAbsolutePath().normalize().toString();
		app.setDefaultProperties(Map.of("vte.hapi.data-dir", absolute));
		app.run(args);
	}
}
