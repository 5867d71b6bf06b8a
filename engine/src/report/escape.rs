//! The copy of a report that text and Markdown render: control characters escaped.

use crate::report::Report;

impl Report {
    /// A copy for a terminal or a Markdown page: every string that comes from the bundle or a
    /// rule has its control characters escaped (`\n`, `\u{1b}`; tabs are kept), so that a
    /// hostile bundle can neither send escape sequences to the terminal nor start a line that
    /// looks like part of the report. The JSON report needs none of this: JSON escapes them.
    pub(super) fn escaped(&self) -> Report {
        fn text(s: &mut String) {
            if let std::borrow::Cow::Owned(escaped) = recorder::bundle::escape_controls(s, true) {
                *s = escaped;
            }
        }
        fn opt(s: &mut Option<String>) {
            if let Some(s) = s {
                text(s);
            }
        }
        fn all(list: &mut [String]) {
            list.iter_mut().for_each(text);
        }
        let mut r = self.clone();
        let b = &mut r.bundle;
        [&mut b.source, &mut b.recorded_at]
            .into_iter()
            .for_each(text);
        [&mut b.region, &mut b.account, &mut b.cluster]
            .into_iter()
            .for_each(opt);
        all(&mut b.services);
        for service in &mut r.summary.services {
            text(&mut service.service);
            opt(&mut service.steady_at);
            for d in &mut service.deployments {
                [
                    &mut d.id,
                    &mut d.status,
                    &mut d.task_definition,
                    &mut d.rollout_state,
                    &mut d.rollout_state_reason,
                ]
                .into_iter()
                .for_each(opt);
            }
            if let Some(rollout) = &mut service.rollout {
                [
                    &mut rollout.deployment,
                    &mut rollout.strategy,
                    &mut rollout.status,
                    &mut rollout.path,
                ]
                .into_iter()
                .for_each(text);
                [
                    &mut rollout.status_reason,
                    &mut rollout.target_revision,
                    &mut rollout.target_task_definition,
                    &mut rollout.rolled_back_to,
                    &mut rollout.rolled_back_to_task_definition,
                    &mut rollout.cause,
                    &mut rollout.detail,
                ]
                .into_iter()
                .for_each(opt);
                all(&mut rollout.alarms);
                all(&mut rollout.hooks);
                all(&mut rollout.links);
            }
        }
        for cause in &mut r.summary.causes {
            text(&mut cause.rule);
            all(&mut cause.services);
            [&mut cause.first_stopped_at, &mut cause.last_stopped_at]
                .into_iter()
                .for_each(opt);
        }
        for task in &mut r.tasks {
            [&mut task.task_arn, &mut task.task_id]
                .into_iter()
                .for_each(text);
            [
                &mut task.service,
                &mut task.task_definition,
                &mut task.stopped_at,
                &mut task.stop_code,
                &mut task.stopped_reason,
                &mut task.root_cause,
            ]
            .into_iter()
            .for_each(opt);
            for container in &mut task.containers {
                text(&mut container.name);
                opt(&mut container.reason);
            }
            all(&mut task.last_log_lines);
            for step in &mut task.next_steps {
                text(&mut step.what);
                opt(&mut step.command);
            }
            for entry in &mut task.timeline {
                opt(&mut entry.at);
                opt(&mut entry.container);
                text(&mut entry.text);
            }
        }
        for repeat in &mut r.repeats {
            [&mut repeat.service, &mut repeat.root_cause]
                .into_iter()
                .for_each(opt);
            [&mut repeat.first_stopped_at, &mut repeat.last_stopped_at]
                .into_iter()
                .for_each(opt);
            all(&mut repeat.task_ids);
        }
        for finding in &mut r.findings {
            [
                &mut finding.rule,
                &mut finding.category,
                &mut finding.message,
            ]
            .into_iter()
            .for_each(text);
            [
                &mut finding.task_arn,
                &mut finding.service,
                &mut finding.container,
                &mut finding.hint,
                &mut finding.doc_url,
                &mut finding.symptom_of,
                &mut finding.caused_by_task,
            ]
            .into_iter()
            .for_each(opt);
            finding.evidence.iter_mut().for_each(|fact| {
                text(&mut fact.path);
                opt(&mut fact.label);
            });
        }
        for revision in &mut r.revisions {
            [&mut revision.task_definition, &mut revision.previous]
                .into_iter()
                .for_each(text);
            for change in &mut revision.changes {
                [&mut change.field, &mut change.path]
                    .into_iter()
                    .for_each(text);
                opt(&mut change.container);
            }
        }
        for missing in &mut r.missing_evidence {
            [
                &mut missing.service,
                &mut missing.operation,
                &mut missing.code,
                &mut missing.message,
                &mut missing.iam_action,
                &mut missing.path,
            ]
            .into_iter()
            .for_each(text);
        }
        for error in &mut r.rule_errors {
            [&mut error.rule, &mut error.file, &mut error.message]
                .into_iter()
                .for_each(text);
            opt(&mut error.position);
        }
        all(&mut r.replaced_rules);
        all(&mut r.disabled_rules);
        r
    }
}
