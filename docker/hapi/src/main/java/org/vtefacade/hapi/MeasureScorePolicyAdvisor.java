package org.vtefacade.hapi;

import org.hl7.fhir.common.hapi.validation.validator.FhirDefaultPolicyAdvisor;
import org.hl7.fhir.utilities.i18n.I18nConstants;

/**
 * HAPI's default validation policy, except for one core-validator message: "a value is required
 * when the Measure.scoring = proportion" on {@code MeasureReport.group.measureScore}.
 *
 * <p>FHIR R4 makes {@code MeasureReport.group.measureScore} 0..1, and a proportion has no value
 * when no one is left in its denominator (a small hospital with no stay in a stratum, an
 * indicator with no eligible case in a quarter). DEQM then reports the populations with their
 * zero counts and no score. The core validator (org.hl7.fhir.validation 6.7.9, MeasureValidator)
 * nevertheless demands a score value for every proportion, ratio and continuous-variable group,
 * whatever the counts, and accepts no data-absent-reason in its place. That one message is
 * dropped here; when a score may be absent is stated instead by the facade's MeasureReport
 * profile ({@code vte-summary-measurereport}, invariants vte-mr-2 and vte-mr-3: a
 * data-absent-reason in place of the value, exactly when the denominator minus its exclusions is
 * zero). The companion message for a missing {@code measureScore} element stays an error.
 */
public class MeasureScorePolicyAdvisor extends FhirDefaultPolicyAdvisor {

	@Override
	public boolean isSuppressMessageId(String thePath, String theMessageId) {
		return I18nConstants.MEASURE_MR_SCORE_VALUE_REQUIRED.equals(theMessageId)
				|| super.isSuppressMessageId(thePath, theMessageId);
	}
}
