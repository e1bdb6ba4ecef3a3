package org.vtefacade.hapi;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Which requests come from a trusted writer: the facade's forwarder, whose resources its mapping
 * engine produced from records already checked against the data dictionary (and whose
 * conformance is proven by the facade's property test and sampled $validate). Such a request
 * carries the shared secret in {@link #HEADER}; nothing else about the request is believed.
 *
 * <p>The key is compared as SHA-256 digests with {@link MessageDigest#isEqual} (constant time, no
 * length leak). A header with a wrong key is not an error: that request is simply validated like
 * any other, and a warning is logged at most once a minute (a misconfigured facade would
 * otherwise only show up as slow ingestion).
 */
public final class TrustedWrites {

	/** Request header carrying the shared secret (never logged: the request log has no headers). */
	public static final String HEADER = "X-VTE-Trusted-Write";

	private static final Logger ourLog = LoggerFactory.getLogger(TrustedWrites.class);
	private static final long WARN_EVERY_MS = 60_000;

	private final byte[] myKeyDigest;
	private final AtomicLong myLastWarning = new AtomicLong();

	public TrustedWrites(String theKey) {
		myKeyDigest = theKey == null || theKey.isBlank() ? null : sha256(theKey.trim());
	}

	/** Whether any writer can be trusted at all (a key is configured). */
	public boolean enabled() {
		return myKeyDigest != null;
	}

	/** Whether this request (a plain write or a whole transaction) carries the right key. */
	public boolean trusts(RequestDetails theRequest) {
		if (myKeyDigest == null || theRequest == null) {
			return false;
		}
		String presented = theRequest.getHeader(HEADER);
		if (presented == null || presented.isEmpty()) {
			return false;
		}
		if (MessageDigest.isEqual(myKeyDigest, sha256(presented.trim()))) {
			return true;
		}
		long now = System.currentTimeMillis();
		long last = myLastWarning.get();
		if (now - last >= WARN_EVERY_MS && myLastWarning.compareAndSet(last, now)) {
			ourLog.warn("A write presented {} with a wrong key: validated like any other writer", HEADER);
		}
		return false;
	}

	private static byte[] sha256(String theValue) {
		try {
			return MessageDigest.getInstance("SHA-256").digest(theValue.getBytes(StandardCharsets.UTF_8));
		} catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("SHA-256 is missing from this JRE", e);
		}
	}
}
