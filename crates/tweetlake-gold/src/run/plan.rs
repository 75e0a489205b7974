//! What one model's run does, decided apart from the reads that inform it and the writes that
//! carry it out, so every rule is unit-tested without Delta or SQL. Two steps, because the second
//! needs a read that only an incremental model makes: which windows the sources' changes touch.

use crate::model::Materialization;
use crate::windows::WindowSet;

/// What is known of a model, its table and its sources before any change is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub full_refresh: bool,
    pub table_exists: bool,
    /// The table was last built by this very SQL.
    pub same_sql: bool,
    /// Every source has a consumed version recorded in the table.
    pub every_source_consumed: bool,
    /// Some source is past the version the table consumed.
    pub any_source_changed: bool,
    pub materialization: &'a Materialization,
}

/// The first decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    UpToDate,
    /// Read which windows the sources' changes touch, then [`plan`].
    FindWindows,
    Rebuild(String),
}

pub(crate) fn first_step(f: &Facts) -> Step {
    let reason = if f.full_refresh {
        Some("--full-refresh")
    } else if !f.table_exists {
        Some("first build")
    } else if !f.same_sql {
        Some("its SQL changed")
    } else if !f.every_source_consumed {
        Some("a source it never consumed")
    } else {
        None
    };
    match (reason, f.any_source_changed, f.materialization) {
        (Some(reason), _, _) => Step::Rebuild(reason.into()),
        (None, false, _) => Step::UpToDate,
        (None, true, Materialization::Incremental { .. }) => Step::FindWindows,
        (None, true, Materialization::Table) => Step::Rebuild("a source changed".into()),
    }
}

/// What the run does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    UpToDate,
    /// The sources changed without changing rows (a compaction, a commit of offsets alone):
    /// nothing to recompute, but the consumed versions are recorded so the next run does not
    /// look again.
    RecordConsumed,
    /// Recompute these windows and swap them in.
    Recompute(WindowSet),
    Rebuild(String),
}

/// The plan, given the windows the changes touch (`None`: a source's log no longer reaches back
/// to the version consumed, so what changed is unknown).
pub(crate) fn plan(step: Step, windows: Option<WindowSet>) -> Plan {
    match (step, windows) {
        (Step::UpToDate, _) => Plan::UpToDate,
        (Step::Rebuild(reason), _) => Plan::Rebuild(reason),
        (Step::FindWindows, None) => {
            Plan::Rebuild("a source's log no longer covers the change".into())
        }
        (Step::FindWindows, Some(set)) if set.is_empty() => Plan::RecordConsumed,
        (Step::FindWindows, Some(set)) => Plan::Recompute(set),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Window;

    const INCREMENTAL: Materialization = Materialization::Incremental {
        time_column: String::new(),
        window: Window::from_micros(300_000_000),
    };

    fn facts(m: &Materialization) -> Facts<'_> {
        Facts {
            full_refresh: false,
            table_exists: true,
            same_sql: true,
            every_source_consumed: true,
            any_source_changed: true,
            materialization: m,
        }
    }

    #[test]
    fn a_rebuild_says_why_in_order_of_precedence() {
        let m = INCREMENTAL;
        let step = |edit: fn(&mut Facts)| {
            let mut f = facts(&m);
            edit(&mut f);
            first_step(&f)
        };
        let rebuild = |why: &str| Step::Rebuild(why.into());
        assert_eq!(
            step(|f| {
                f.full_refresh = true;
                f.table_exists = false;
            }),
            rebuild("--full-refresh")
        );
        assert_eq!(
            step(|f| {
                f.table_exists = false;
                f.same_sql = false;
            }),
            rebuild("first build")
        );
        assert_eq!(step(|f| f.same_sql = false), rebuild("its SQL changed"));
        assert_eq!(
            step(|f| f.every_source_consumed = false),
            rebuild("a source it never consumed")
        );
        // A reason to rebuild wins even when no source changed.
        assert_eq!(
            step(|f| {
                f.same_sql = false;
                f.any_source_changed = false;
            }),
            rebuild("its SQL changed")
        );
        assert_eq!(step(|f| f.any_source_changed = false), Step::UpToDate);
        assert_eq!(step(|_| {}), Step::FindWindows);
        let table = Materialization::Table;
        assert_eq!(first_step(&facts(&table)), rebuild("a source changed"));
    }

    #[test]
    fn the_windows_decide_an_incremental_run() {
        let window = Window::from_micros(300_000_000);
        let mut touched = WindowSet::new(window);
        touched.add_instant(1_795_169_253_000_000);
        assert_eq!(
            plan(Step::FindWindows, Some(touched.clone())),
            Plan::Recompute(touched)
        );
        assert_eq!(
            plan(Step::FindWindows, Some(WindowSet::new(window))),
            Plan::RecordConsumed
        );
        assert_eq!(
            plan(Step::FindWindows, None),
            Plan::Rebuild("a source's log no longer covers the change".into())
        );
        assert_eq!(plan(Step::UpToDate, None), Plan::UpToDate);
        assert_eq!(
            plan(Step::Rebuild("first build".into()), None),
            Plan::Rebuild("first build".into())
        );
    }
}
