package org.vtefacade.hapi;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RequestTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.util.OperationOutcomeUtil;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Locale;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;

/**
 * Refuses a request body that nests too deep, nests extensions too deep, has too many elements
 * or too long a string, before HAPI parses it and long before the validator sees it.
 *
 * <p>Why: the instance validator's cost grows super-linearly with extension nesting (measured
 * on this server: 8 nested extensions 0.6 CPU-s, 12 nested 3 CPU-s, 50 nested did not finish in
 * 25 minutes), and nothing stops it once it has started, not even the client going away. The
 * facade checks the same limits, tighter, before it forwards anything
 * ({@code facade/frontdoor/limits.py}); this is the server's own guard against any other caller
 * and against a facade misconfiguration.
 *
 * <p>The body is scanned once, as a token stream (Jackson for JSON, StAX for XML), so the check
 * itself needs no recursion and stops at the first limit broken: a refused request costs a few
 * milliseconds. Bodies that are not JSON or XML (form-encoded searches, Binary content) are left
 * alone, as is a body that does not parse: HAPI's parser answers that in its usual way.
 *
 * <p>Counting follows the facade: depth counts objects and arrays (XML: elements); extension
 * nesting counts {@code extension}/{@code modifierExtension} steps on one path; elements are
 * objects and scalar values (XML: elements), per resource (a Bundle entry's resource on its own,
 * contained resources with their parent, a transaction/batch Bundle only as part of the request)
 * and per request.
 */
@Interceptor
public class IntakeLimitInterceptor {

	/** The limits; see {@link VteHapiProperties} for the defaults and the reasons. */
	public record Limits(
			int maxDepth, int maxExtensionNesting, int maxElementsPerResource, int maxElementsPerRequest, int maxStringLength) {}

	/** The first limit a body breaks: where (a FHIRPath-like location), which rule, and why. */
	record Breach(String location, String rule, String message) {}

	private static final JsonFactory JSON = new JsonFactory();

	private final FhirContext myContext;
	private final Limits myLimits;

	public IntakeLimitInterceptor(FhirContext theContext, Limits theLimits) {
		myContext = theContext;
		myLimits = theLimits;
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
	public boolean checkBody(RequestDetails theRequest) {
		RequestTypeEnum type = theRequest.getRequestType();
		if (type != RequestTypeEnum.POST && type != RequestTypeEnum.PUT && type != RequestTypeEnum.PATCH) {
			return true;
		}
		String contentType = String.valueOf(theRequest.getHeader("Content-Type")).toLowerCase(Locale.ROOT);
		if (contentType.startsWith("application/x-www-form-urlencoded")) {
			return true;
		}
		byte[] body = theRequest.loadRequestContents();
		if (body == null || body.length == 0) {
			return true;
		}
		// A body posted to the base is a transaction/batch Bundle (its entries are the resources).
		String root = theRequest.getResourceName() != null ? theRequest.getResourceName() : "Bundle";
		Breach breach = check(body, root);
		if (breach != null) {
			String message = breach.message() + " (rule " + breach.rule() + ", at " + breach.location() + ")";
			IBaseOperationOutcome outcome = OperationOutcomeUtil.newInstance(myContext);
			OperationOutcomeUtil.addIssue(myContext, outcome, "error", message, breach.location(), "too-costly");
			throw new InvalidRequestException(message, outcome);
		}
		return true;
	}

	/** The first limit {@code body} breaks, or null (also null when it is neither JSON nor XML). */
	Breach check(byte[] body, String root) {
		int first = 0;
		while (first < body.length && Character.isWhitespace(body[first])) {
			first++;
		}
		if (first == body.length) {
			return null;
		}
		try {
			if (body[first] == '{' || body[first] == '[') {
				return new JsonScan(root).run(body);
			}
			if (body[first] == '<') {
				return new XmlScan(root).run(body);
			}
		} catch (StreamConstraintsException e) {
			return new Breach(root, "parser-limit", "the body exceeds a limit of the JSON parser: " + e.getMessage());
		} catch (IOException | XMLStreamException e) {
			return null; // not well-formed: HAPI's own parser reports it
		}
		return null;
	}

	/** One open object/array (JSON) or element (XML) on the current path. */
	private static final class Frame {
		final String name; // member or element name; null for array items and the root
		final boolean array;
		final int nesting; // extension steps up to and including this frame
		final Counter resource; // the resource this frame belongs to
		int index = -1; // position of the current item, for arrays

		Frame(String theName, boolean theArray, int theNesting, Counter theResource) {
			name = theName;
			array = theArray;
			nesting = theNesting;
			resource = theResource;
		}
	}

	/** Elements of one resource, and where it starts (for the message). */
	private static final class Counter {
		final boolean limited; // false for a transaction/batch envelope
		final String location;
		int elements;

		Counter(boolean theLimited, String theLocation) {
			limited = theLimited;
			location = theLocation;
		}
	}

	/** Shared bookkeeping of both scanners: the path, the counters, and the rules. */
	private abstract class Scan {
		final Deque<Frame> myPath = new ArrayDeque<>();
		final String myRoot;
		final boolean myEnvelope; // a transaction/batch Bundle: only its entries are resources
		int myElements;

		Scan(String theRoot) {
			myRoot = theRoot;
			myEnvelope = "Bundle".equals(theRoot);
		}

		/** A new resource starting at the current path plus {@code theChild}. */
		Counter resource(boolean theLimited, String theChild) {
			return new Counter(theLimited, theLimited ? location(theChild) : myRoot);
		}

		static boolean isExtension(String theName) {
			return "extension".equals(theName) || "modifierExtension".equals(theName);
		}

		/** Counts one element toward its resource and the request. */
		Breach count(Counter theResource) {
			theResource.elements++;
			if (++myElements > myLimits.maxElementsPerRequest()) {
				return new Breach(myRoot, "max-request-elements",
						"the request has more than " + myLimits.maxElementsPerRequest() + " elements");
			}
			if (theResource.limited && theResource.elements > myLimits.maxElementsPerResource()) {
				return new Breach(theResource.location, "max-elements",
						"a resource has more than " + myLimits.maxElementsPerResource() + " elements");
			}
			return null;
		}

		Breach string(int theLength, String theChild) {
			if (theLength > myLimits.maxStringLength()) {
				return new Breach(location(theChild), "max-string-length",
						"a string is longer than " + myLimits.maxStringLength() + " characters");
			}
			return null;
		}

		/** Opens a frame, or says which limit opening it would break. */
		Breach open(String theName, boolean theArray, boolean theNewResource) {
			Frame parent = myPath.peek();
			int nesting = (parent == null ? 0 : parent.nesting) + (isExtension(theName) ? 1 : 0);
			if (myPath.size() + 1 > myLimits.maxDepth()) {
				return new Breach(location(theName), "max-json-depth",
						"the body nests deeper than " + myLimits.maxDepth() + " levels");
			}
			if (nesting > myLimits.maxExtensionNesting()) {
				return new Breach(location(theName), "max-extension-nesting",
						"extensions nest deeper than " + myLimits.maxExtensionNesting() + " levels");
			}
			Counter resource = parent == null
					? resource(!myEnvelope, null)
					: theNewResource ? resource(true, theName) : parent.resource;
			myPath.push(new Frame(theName, theArray, nesting, resource));
			return null;
		}

		/** The current path (plus {@code theChild}), e.g. {@code Bundle.entry[2].resource.extension[0]}. */
		String location(String theChild) {
			StringBuilder out = new StringBuilder(myRoot);
			Iterator<Frame> outermostFirst = myPath.descendingIterator();
			Frame parent = null;
			while (outermostFirst.hasNext()) {
				Frame frame = outermostFirst.next();
				if (frame.name != null && parent != null) {
					out.append('.').append(frame.name);
				}
				if (frame.array && frame.index >= 0) {
					out.append('[').append(frame.index).append(']');
				}
				parent = frame;
			}
			if (theChild != null) {
				out.append('.').append(theChild);
			}
			return out.toString();
		}
	}

	private final class JsonScan extends Scan {
		JsonScan(String theRoot) {
			super(theRoot);
		}

		Breach run(byte[] theBody) throws IOException {
			try (JsonParser parser = JSON.createParser(theBody)) {
				String name = null;
				JsonToken token;
				while ((token = parser.nextToken()) != null) {
					if (token == JsonToken.FIELD_NAME) {
						name = parser.currentName();
						Breach breach = string(parser.getTextLength(), null);
						if (breach != null) {
							return breach;
						}
						continue;
					}
					Frame parent = myPath.peek();
					if (parent != null && parent.array) {
						parent.index++;
					}
					String member = parent != null && parent.array ? parent.name : name;
					Breach breach = null;
					if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
						boolean array = token == JsonToken.START_ARRAY;
						// Array items carry their array's name (for extension counting and paths).
						breach = parent != null && parent.array
								? openItem(parent, array)
								: open(name, array, "resource".equals(name));
						if (breach == null && !array) {
							breach = count(myPath.peek().resource);
						}
					} else if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
						myPath.pop();
					} else {
						breach = count(parent == null ? resource(true, null) : parent.resource);
						if (breach == null && token == JsonToken.VALUE_STRING) {
							breach = string(parser.getTextLength(), parent != null && parent.array ? null : member);
						}
					}
					if (breach != null) {
						return breach;
					}
					name = null;
				}
			}
			return null;
		}

		/** An object or array inside an array: same name and nesting as the array, path by index. */
		private Breach openItem(Frame theArray, boolean theIsArray) {
			if (myPath.size() + 1 > myLimits.maxDepth()) {
				return new Breach(location(null), "max-json-depth",
						"the body nests deeper than " + myLimits.maxDepth() + " levels");
			}
			boolean newResource = "resource".equals(theArray.name);
			Counter resource = newResource ? resource(true, null) : theArray.resource;
			myPath.push(new Frame(null, theIsArray, theArray.nesting, resource));
			return null;
		}
	}

	private final class XmlScan extends Scan {
		XmlScan(String theRoot) {
			super(theRoot);
		}

		Breach run(byte[] theBody) throws XMLStreamException {
			XMLInputFactory factory = XMLInputFactory.newFactory();
			factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
			factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
			XMLStreamReader reader = factory.createXMLStreamReader(new ByteArrayInputStream(theBody));
			try {
				while (reader.hasNext()) {
					int event = reader.next();
					Breach breach = null;
					if (event == XMLStreamConstants.START_ELEMENT) {
						Frame parent = myPath.peek();
						String name = reader.getLocalName();
						// The resource inside <resource> (Bundle.entry.resource) counts on its own.
						boolean newResource = parent != null && "resource".equals(parent.name);
						breach = open(parent == null ? null : name, false, newResource);
						if (breach == null) {
							breach = count(myPath.peek().resource);
						}
						for (int i = 0; breach == null && i < reader.getAttributeCount(); i++) {
							breach = string(reader.getAttributeValue(i).length(), null);
						}
					} else if (event == XMLStreamConstants.END_ELEMENT) {
						myPath.pop();
					} else if (event == XMLStreamConstants.CHARACTERS || event == XMLStreamConstants.CDATA) {
						breach = string(reader.getTextLength(), null);
					}
					if (breach != null) {
						return breach;
					}
				}
			} finally {
				reader.close();
			}
			return null;
		}
	}
}
