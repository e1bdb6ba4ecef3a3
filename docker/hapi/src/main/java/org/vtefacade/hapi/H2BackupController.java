package org.vtefacade.hapi;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.env.Environment;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Online backup of the embedded H2 database: {@code POST /admin/h2-backup} answers a zip made by
 * H2's own {@code BACKUP TO} (transactionally consistent through MVCC; writers are not blocked).
 *
 * <p>The H2 file is locked by this JVM, so no other process can copy it safely while HAPI runs;
 * this endpoint is how {@code vte-facade backup} gets a consistent copy without downtime. On
 * PostgreSQL it answers 409: use pg_dump. Restoring is offline (unzip into HAPI_DATA_DIR while
 * the server is stopped), which {@code vte-facade restore} does.
 *
 * <p>{@code HAPI_ADMIN_BACKUP}: {@code loopback} (default: only callers on this machine), {@code
 * any} (a private network where only the facade reaches HAPI), or {@code off}.
 */
@RestController
public class H2BackupController {

	private static final Logger ourLog = LoggerFactory.getLogger(H2BackupController.class);

	private final DataSource myDataSource;
	private final Environment myEnvironment;
	private final String myMode;

	public H2BackupController(
			DataSource theDataSource,
			Environment theEnvironment,
			@Value("${HAPI_ADMIN_BACKUP:loopback}") String theMode) {
		myDataSource = theDataSource;
		myEnvironment = theEnvironment;
		myMode = theMode.trim().toLowerCase(Locale.ROOT);
	}

	@PostMapping("/admin/h2-backup")
	public void backup(HttpServletRequest theRequest, HttpServletResponse theResponse)
			throws IOException, SQLException {
		if ("off".equals(myMode) || !("any".equals(myMode) || isLoopback(theRequest.getRemoteAddr()))) {
			plain(theResponse, HttpServletResponse.SC_FORBIDDEN, "online backup is not allowed from this address (HAPI_ADMIN_BACKUP)");
			return;
		}
		String url = myEnvironment.getProperty("spring.datasource.url", "");
		if (!url.toLowerCase(Locale.ROOT).startsWith("jdbc:h2:")) {
			plain(theResponse, HttpServletResponse.SC_CONFLICT, "the database is not H2; back it up with its own tools (pg_dump)");
			return;
		}
		Path dir = Files.createTempDirectory("vte-hapi-backup-");
		Path zip = dir.resolve("hapi-h2.zip");
		try {
			long started = System.nanoTime();
			try (Connection connection = myDataSource.getConnection();
					Statement statement = connection.createStatement()) {
				// The path is ours (a fresh temporary directory), never the caller's.
				statement.execute("BACKUP TO '" + zip.toString().replace("'", "''") + "'");
			}
			long bytes = Files.size(zip);
			ourLog.info("H2 online backup: {} bytes in {} ms", bytes, (System.nanoTime() - started) / 1_000_000);
			theResponse.setStatus(HttpServletResponse.SC_OK);
			theResponse.setContentType("application/zip");
			theResponse.setContentLengthLong(bytes);
			theResponse.setHeader("X-H2-Version", org.h2.engine.Constants.FULL_VERSION);
			try (InputStream in = Files.newInputStream(zip);
					OutputStream out = theResponse.getOutputStream()) {
				in.transferTo(out);
			}
		} finally {
			try (Stream<Path> leftovers = Files.walk(dir)) {
				leftovers.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
			}
		}
	}

	private static boolean isLoopback(String theAddress) {
		try {
			return InetAddress.getByName(theAddress).isLoopbackAddress();
		} catch (IOException e) {
			return false;
		}
	}

	private static void plain(HttpServletResponse theResponse, int theStatus, String theMessage) throws IOException {
		theResponse.setStatus(theStatus);
		theResponse.setContentType("text/plain;charset=UTF-8");
		theResponse.getOutputStream().write((theMessage + "\n").getBytes(StandardCharsets.UTF_8));
	}
}
