//! `Failure`: an entry of a DescribeTasks or RunTask response's `failures[]`, where ECS says
//! what it could not place or describe (`RESOURCE:MEMORY`, `RESOURCE:CPU`, `RESOURCE:PORTS`,
//! `AGENT`, `ATTRIBUTE`, `MISSING`, …). With no task to describe, it is the evidence.

use crate::runtime::api::{FailureHandle, cite, string};
use crate::runtime::registry::Api;

impl FailureHandle {
    fn failure(&self) -> &recorder::model::Failure {
        &self.ev.failures[self.index].value
    }
}

pub(super) fn register(api: &mut Api<'_>) {
    api.ty::<FailureHandle>(
        "Failure",
        "failure",
        "One entry of the `failures[]` of a DescribeTasks or RunTask response: what ECS could not place\nor describe. A finding can be about one (`finding(failure, message)`).",
    )
    .get(
        "arn: string",
        "The resource it is about (a container instance for placement reasons, a task for\n`MISSING`), or `\"\"`.",
        |f: &mut FailureHandle| string(f.failure().arn.as_ref()),
    )
    .get(
        "reason: string",
        "Why: `RESOURCE:MEMORY`, `RESOURCE:CPU`, `RESOURCE:PORTS`, `RESOURCE:GPU`, `AGENT`,\n`ATTRIBUTE`, `MISSING`, …, or `\"\"`.",
        |f: &mut FailureHandle| string(f.failure().reason.as_ref()),
    )
    .get(
        "detail: string",
        "More detail when ECS gives it, or `\"\"`.",
        |f: &mut FailureHandle| string(f.failure().detail.as_ref()),
    )
    .func(
        "path(field)",
        "Cites a field of the failure (`reason`, `arn`, `detail`) as a `Fact`.",
        |f: &mut FailureHandle, field: &str| {
            let located = &f.ev.failures[f.index];
            cite(&f.ev, &located.loc.path(), &located.value, field)
        },
    )
    .func("to_string()", "`Failure(<reason> <arn>)`.", |f: &mut FailureHandle| {
        let failure = f.failure();
        format!(
            "Failure({} {})",
            failure.reason.as_deref().unwrap_or_default(),
            failure.arn.as_deref().unwrap_or_default()
        )
    });
}
