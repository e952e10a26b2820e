"""The statutory clocks of a penalty case, computed from the rule set in force when each started.

- Filing decision: working days from the day the lead was received (the day itself not counted),
  once extended with the head's approval; testing time stops it.
- Decision: natural days from filing; the first extension with the head's approval, any further
  one only by a collective decision with a new date; suspension, hearing, notice and testing time
  stop it.
- Publication of a penalty decision and of an inspection's result: working days from the decision
  or the completion.
- Legal review, the statement period and the hearing request: working days from the submission or
  the advance notice. The hearing's notice, the delivery of the decision and the payment of the
  fine: natural days.
"""

from __future__ import annotations

import datetime as dt

from services.common.working_days import DueDate, WorkingDayCalendar
from services.mobile_enforcement.domain.rules import RuleSet


def filing_decision_due(calendar: WorkingDayCalendar, rules: RuleSet, received_on: dt.date) -> DueDate:
    """When the decision to file or not (立案审查) is due: working days from the receipt of the lead."""
    return calendar.add_working_days(received_on, rules.filing_decision_working_days)


def extended_filing_due(calendar: WorkingDayCalendar, rules: RuleSet, due: dt.date) -> DueDate:
    """The filing decision's limit after its one approved extension."""
    return calendar.add_working_days(due, rules.filing_extension_working_days)


def closing_due(calendar: WorkingDayCalendar, rules: RuleSet, filed_on: dt.date) -> dt.date:
    """When a filed case must be decided: natural days from filing."""
    return calendar.add_calendar_days(filed_on, rules.decision_days).date


def extended_closing_due(calendar: WorkingDayCalendar, rules: RuleSet, due: dt.date) -> dt.date:
    """The decision's limit after its first approved extension."""
    return calendar.add_calendar_days(due, rules.decision_extension_days).date


def resumed_filing_due(calendar: WorkingDayCalendar, due: dt.date, paused_since: dt.date,
                       resumed_on: dt.date) -> DueDate:
    """The working days the clock stood still are added back."""
    return calendar.add_working_days(due, calendar.working_days_between(paused_since, resumed_on))


def resumed_closing_due(due: dt.date, paused_since: dt.date, resumed_on: dt.date) -> dt.date:
    """The decision's limit moved by the natural days the clock stood still."""
    return due + (resumed_on - paused_since)


def penalty_publication_due(calendar: WorkingDayCalendar, rules: RuleSet, decided_on: dt.date) -> DueDate:
    """When a penalty decision must be published: working days from the decision."""
    return calendar.add_working_days(decided_on, rules.penalty_publication_working_days)


def inspection_publication_due(calendar: WorkingDayCalendar, rules: RuleSet, completed_on: dt.date) -> DueDate:
    """When an inspection's result must be published: working days from its completion."""
    return calendar.add_working_days(completed_on, rules.inspection_publication_working_days)


def legal_review_due(calendar: WorkingDayCalendar, rules: RuleSet, submitted_on: dt.date) -> DueDate:
    """When the legal review (法制审核) must be done: working days from its submission."""
    return calendar.add_working_days(submitted_on, rules.legal_review_working_days)


def statement_due(calendar: WorkingDayCalendar, rules: RuleSet, notified_on: dt.date) -> DueDate:
    """The last day of the statement and defence period (陈述申辩): working days from the notice."""
    return calendar.add_working_days(notified_on, rules.statement_working_days)


def hearing_request_due(calendar: WorkingDayCalendar, rules: RuleSet, notified_on: dt.date) -> DueDate:
    """The last day the party may ask for a hearing (听证): working days from the notice."""
    return calendar.add_working_days(notified_on, rules.hearing_request_working_days)


def earliest_hearing_day(rules: RuleSet, notified_on: dt.date) -> dt.date:
    """The first day a hearing may be held when the party is told of it on `notified_on`."""
    return notified_on + dt.timedelta(days=rules.hearing_notice_days)


def delivery_due(calendar: WorkingDayCalendar, rules: RuleSet, decided_on: dt.date) -> dt.date:
    """When the decision must have been delivered (送达): natural days from the decision."""
    return calendar.add_calendar_days(decided_on, rules.delivery_days).date


def payment_due(calendar: WorkingDayCalendar, rules: RuleSet, delivered_on: dt.date) -> dt.date:
    """When the fine must be paid: natural days from the delivery; the surcharge accrues after it."""
    return calendar.add_calendar_days(delivered_on, rules.payment_days).date
