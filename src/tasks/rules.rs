//! The task workflow and the fields derived from a task's dates, as plain functions: which
//! action leads where from which status, who is on which side of it, and when a task is
//! overdue, warned about (三色督办: blue, yellow, red) or closed on time. Tested here
//! without a database; `tasks::model` applies them and mirrors the warning rules in SQL
//! (`tasks::filters`) for lists.

use chrono::NaiveDateTime;

use crate::auth::Action;
use crate::deadlines::{self, Phase};
pub use crate::deadlines::{Timing, Warning, WarningRules};
use crate::text_enum;

text_enum! {
    /// Where a task is in its workflow.
    pub enum TaskStatus {
        /// Handed to the unit (交办), not yet started.
        Assigned = "assigned",
        /// Being handled (办理).
        InProgress = "in_progress",
        /// Reported done (反馈), waiting for the issuer's side to check it.
        Submitted = "submitted",
        /// Checked and closed (办结销号).
        Accepted = "accepted",
        /// Withdrawn by the issuer's side.
        Cancelled = "cancelled",
    }
}

impl TaskStatus {
    /// Still to be done: not accepted, not cancelled.
    pub fn is_open(self) -> bool {
        !matches!(self, TaskStatus::Accepted | TaskStatus::Cancelled)
    }

    /// As deadlines see it: the unit works until it submits; then the issuer's side has it.
    pub fn phase(self) -> Phase {
        match self {
            TaskStatus::Assigned | TaskStatus::InProgress => Phase::Working,
            TaskStatus::Submitted => Phase::Waiting,
            TaskStatus::Accepted | TaskStatus::Cancelled => Phase::Closed,
        }
    }

    /// Statuses in which the unit is still working (warnings about pace apply).
    pub const WORKING: &'static [TaskStatus] = &[TaskStatus::Assigned, TaskStatus::InProgress];
    /// Statuses that count as open.
    pub const OPEN: &'static [TaskStatus] = &[
        TaskStatus::Assigned,
        TaskStatus::InProgress,
        TaskStatus::Submitted,
    ];
}

text_enum! {
    /// What `POST /tasks/{id}/transitions` may ask for.
    pub enum TaskAction {
        Start = "start",
        Submit = "submit",
        Accept = "accept",
        Reject = "reject",
        RequestExtension = "request_extension",
        ApproveExtension = "approve_extension",
        DenyExtension = "deny_extension",
        Reassign = "reassign",
        Cancel = "cancel",
    }
}

impl TaskAction {
    /// What the caller must be allowed ([`crate::auth::policy::RULES`]): the task's unit
    /// works on it; the issuer's side verifies and manages it.
    pub fn needs(self) -> Action {
        match self {
            TaskAction::Start | TaskAction::Submit | TaskAction::RequestExtension => {
                Action::WorkOnTask
            }
            TaskAction::Accept | TaskAction::Reject => Action::VerifyWork,
            TaskAction::ApproveExtension
            | TaskAction::DenyExtension
            | TaskAction::Reassign
            | TaskAction::Cancel => Action::ManageTask,
        }
    }

    /// Reasons are recorded for sending work back, withdrawing it and asking for time.
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            TaskAction::Reject | TaskAction::Cancel | TaskAction::RequestExtension
        )
    }
}

/// What the workflow needs to know about a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskState {
    pub status: TaskStatus,
    /// An extension request waits for a decision.
    pub extension_pending: bool,
}

/// The status `action` leads to from `state`; `Err` with the actions that are allowed
/// instead (for the 409's message).
pub fn next(state: TaskState, action: TaskAction) -> Result<TaskStatus, Vec<TaskAction>> {
    next_status(state, action).ok_or_else(|| allowed(state))
}

/// Every action allowed from `state`.
pub fn allowed(state: TaskState) -> Vec<TaskAction> {
    TaskAction::ALL
        .iter()
        .copied()
        .filter(|a| next_status(state, *a).is_some())
        .collect()
}

/// The workflow: status × action → status. A pending extension request must be decided
/// before another is made; work is reassigned only while the unit is still at it.
fn next_status(state: TaskState, action: TaskAction) -> Option<TaskStatus> {
    use TaskAction::*;
    use TaskStatus::*;
    match (state.status, action) {
        (Assigned, Start) => Some(InProgress),
        (InProgress, Submit) => Some(Submitted),
        (Submitted, Accept) => Some(Accepted),
        (Submitted, Reject) => Some(InProgress),
        (Assigned | InProgress, RequestExtension) if !state.extension_pending => Some(state.status),
        (Assigned | InProgress | Submitted, ApproveExtension | DenyExtension)
            if state.extension_pending =>
        {
            Some(state.status)
        }
        (Assigned | InProgress, Reassign) => Some(state.status),
        (Assigned | InProgress | Submitted, Cancel) => Some(Cancelled),
        _ => None,
    }
}

/// A task moved to another unit starts again from `assigned` there; a new assignee within
/// the same unit changes nothing else.
pub fn status_after_reassign(status: TaskStatus, unit_changes: bool) -> TaskStatus {
    if unit_changes {
        TaskStatus::Assigned
    } else {
        status
    }
}

pub const MAX_PROGRESS: i32 = 100;

/// A progress report: 0–100, only while in progress, and never lower without a note.
pub fn check_progress(
    status: TaskStatus,
    current: i32,
    reported: i32,
    note: &str,
) -> Result<(), ProgressRefusal> {
    if status != TaskStatus::InProgress {
        return Err(ProgressRefusal::NotInProgress);
    }
    if !(0..=MAX_PROGRESS).contains(&reported) {
        return Err(ProgressRefusal::OutOfRange);
    }
    if reported < current && note.trim().is_empty() {
        return Err(ProgressRefusal::LowerWithoutNote);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressRefusal {
    NotInProgress,
    OutOfRange,
    LowerWithoutNote,
}

/// Past the deadline and not accepted or cancelled.
pub fn overdue(status: TaskStatus, due_at: NaiveDateTime, now: NaiveDateTime) -> bool {
    deadlines::overdue(status.phase(), due_at, now)
}

/// Accepted at or before the original deadline; `None` while open or when cancelled.
pub fn closed_on_time(
    status: TaskStatus,
    accepted_at: Option<NaiveDateTime>,
    original_due_at: NaiveDateTime,
) -> Option<bool> {
    match status {
        TaskStatus::Accepted => deadlines::closed_on_time(accepted_at, original_due_at),
        _ => None,
    }
}

/// The weight-averaged progress of tasks that are not cancelled, 0–100 with one decimal;
/// 0 when there are none.
pub fn rollup(tasks: impl IntoIterator<Item = (TaskStatus, i32, i32)>) -> f64 {
    let (mut sum, mut weights) = (0i64, 0i64);
    for (status, progress, weight) in tasks {
        if status != TaskStatus::Cancelled {
            sum += i64::from(progress) * i64::from(weight);
            weights += i64::from(weight);
        }
    }
    if weights == 0 {
        0.0
    } else {
        round1(sum as f64 / weights as f64)
    }
}

/// Rounded to one decimal.
pub fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

pub const MAX_WEIGHT: i32 = 100;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use TaskAction::*;
    use TaskStatus::*;

    fn state(status: TaskStatus, extension_pending: bool) -> TaskState {
        TaskState {
            status,
            extension_pending,
        }
    }

    /// The whole workflow as a table: status × pending extension × action → outcome.
    #[test]
    fn workflow_table() {
        let cases: &[(TaskStatus, bool, TaskAction, Option<TaskStatus>)] = &[
            (Assigned, false, Start, Some(InProgress)),
            (Assigned, false, Submit, None),
            (Assigned, false, Accept, None),
            (Assigned, false, Reject, None),
            (Assigned, false, RequestExtension, Some(Assigned)),
            (Assigned, true, RequestExtension, None),
            (Assigned, false, ApproveExtension, None),
            (Assigned, true, ApproveExtension, Some(Assigned)),
            (Assigned, true, DenyExtension, Some(Assigned)),
            (Assigned, false, Reassign, Some(Assigned)),
            (Assigned, false, Cancel, Some(Cancelled)),
            (InProgress, false, Start, None),
            (InProgress, false, Submit, Some(Submitted)),
            (InProgress, false, Accept, None),
            (InProgress, false, RequestExtension, Some(InProgress)),
            (InProgress, true, DenyExtension, Some(InProgress)),
            (InProgress, false, Reassign, Some(InProgress)),
            (InProgress, false, Cancel, Some(Cancelled)),
            (Submitted, false, Accept, Some(Accepted)),
            (Submitted, false, Reject, Some(InProgress)),
            (Submitted, false, Submit, None),
            (Submitted, false, RequestExtension, None),
            (Submitted, true, ApproveExtension, Some(Submitted)),
            (Submitted, false, Reassign, None),
            (Submitted, false, Cancel, Some(Cancelled)),
        ];
        for (status, pending, action, expected) in cases {
            let got = next(state(*status, *pending), *action).ok();
            assert_eq!(got, *expected, "{status:?} (pending {pending}) {action:?}");
        }
        // Closed tasks allow nothing at all.
        for status in [Accepted, Cancelled] {
            for pending in [false, true] {
                assert!(allowed(state(status, pending)).is_empty(), "{status:?}");
            }
        }
    }

    #[test]
    fn a_refusal_names_the_allowed_actions() {
        let refused = next(state(Submitted, false), Start).unwrap_err();
        assert_eq!(refused, vec![Accept, Reject, Cancel]);
        let refused = next(state(Assigned, true), RequestExtension).unwrap_err();
        assert_eq!(
            refused,
            vec![Start, ApproveExtension, DenyExtension, Reassign, Cancel]
        );
    }

    #[test]
    fn sides_of_the_workflow() {
        for action in [Start, Submit, RequestExtension] {
            assert_eq!(action.needs(), Action::WorkOnTask);
        }
        for action in [Accept, Reject] {
            assert_eq!(action.needs(), Action::VerifyWork);
        }
        for action in [ApproveExtension, DenyExtension, Reassign, Cancel] {
            assert_eq!(action.needs(), Action::ManageTask);
        }
        assert!(Reject.needs_note() && Cancel.needs_note() && RequestExtension.needs_note());
        assert!(!Accept.needs_note() && !Start.needs_note());
        assert_eq!(status_after_reassign(InProgress, true), Assigned);
        assert_eq!(status_after_reassign(InProgress, false), InProgress);
    }

    #[test]
    fn progress_reports() {
        assert_eq!(check_progress(InProgress, 30, 50, ""), Ok(()));
        assert_eq!(check_progress(InProgress, 30, 30, ""), Ok(()));
        assert_eq!(
            check_progress(InProgress, 30, 20, " "),
            Err(ProgressRefusal::LowerWithoutNote)
        );
        assert_eq!(check_progress(InProgress, 30, 20, "重新核算"), Ok(()));
        assert_eq!(
            check_progress(InProgress, 30, 101, ""),
            Err(ProgressRefusal::OutOfRange)
        );
        assert_eq!(
            check_progress(InProgress, 0, -1, "x"),
            Err(ProgressRefusal::OutOfRange)
        );
        assert_eq!(
            check_progress(Assigned, 0, 10, ""),
            Err(ProgressRefusal::NotInProgress)
        );
    }

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2020, 7, day)
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
    }

    /// The colours themselves are tested in `crate::deadlines`; here, what a task's status
    /// means to them.
    #[test]
    fn statuses_as_deadlines_see_them() {
        assert_eq!(Assigned.phase(), Phase::Working);
        assert_eq!(InProgress.phase(), Phase::Working);
        assert_eq!(Submitted.phase(), Phase::Waiting);
        assert_eq!(Accepted.phase(), Phase::Closed);
        assert_eq!(Cancelled.phase(), Phase::Closed);
        assert!(!overdue(InProgress, at(11, 0), at(11, 0)));
        assert!(overdue(Submitted, at(11, 0), at(11, 1)));
        assert!(!overdue(Accepted, at(11, 0), at(12, 0)));
        assert_eq!(
            closed_on_time(Accepted, Some(at(12, 0)), at(11, 0)),
            Some(false)
        );
        assert_eq!(closed_on_time(Cancelled, Some(at(10, 0)), at(11, 0)), None);
        assert_eq!(closed_on_time(InProgress, None, at(11, 0)), None);
    }

    #[test]
    fn rollup_is_weighted_and_ignores_cancelled_tasks() {
        assert_eq!(rollup([]), 0.0);
        assert_eq!(rollup([(InProgress, 50, 1), (Accepted, 100, 1)]), 75.0);
        assert_eq!(rollup([(InProgress, 50, 3), (Accepted, 100, 1)]), 62.5);
        assert_eq!(rollup([(InProgress, 50, 1), (Cancelled, 0, 5)]), 50.0);
        assert_eq!(rollup([(Cancelled, 0, 1)]), 0.0);
        assert_eq!(rollup([(Assigned, 0, 2), (InProgress, 33, 1)]), 11.0);
        assert_eq!(rollup([(Assigned, 10, 1), (InProgress, 0, 2)]), 3.3);
    }
}
