//! `Fact` and `Finding`: the evidence a rule cites and the findings it returns.

use rhai::{Array, Dynamic};
use serde_json::Value;

use crate::model::{Fact, Subject};
use crate::runtime::api::{
    ContainerDefinitionHandle, ContainerHandle, EcsEventHandle, FailureHandle, RhaiResult,
    ScriptFinding, ServiceHandle, TaskDefinitionHandle, TaskHandle, json,
};
use crate::runtime::registry::Api;

fn new_finding(subject: Subject, message: &str) -> ScriptFinding {
    ScriptFinding {
        subject,
        message: message.to_owned(),
        evidence: Vec::new(),
        hint: None,
        doc_url: None,
        symptom: false,
        problem: false,
        caused_by: None,
    }
}

pub(super) fn register(api: &mut Api<'_>) {
    api
        .ty::<Fact>("Fact", "fact", "One piece of evidence: where it is in the bundle (`path`) and its value. Every\n`x.path(\"field\")` returns one; `fact(path, value)` makes one.")
        .get("path", "Where the value is in the bundle (`calls[2].response.tasks[0].stoppedReason`).", |f: &mut Fact| f.path.clone())
        .get("value: any", "The cited value.", |f: &mut Fact| json(&f.value))
        .func("fact(path, value)", "Makes a `Fact` from a path and a value, for evidence that no `path()` reaches. The report\nshows what the bundle holds at the path (absent when nothing), never a value the rule made up.", |path: &str, value: Dynamic| -> RhaiResult<Fact> {
            let value: Value = rhai::serde::from_dynamic(&value)?;
            Ok(Fact {
                path: path.to_owned(),
                value, label: None, })
        });

    api
        .ty::<ScriptFinding>("Finding", "f", "What a rule returns: a subject (task, container or service), a message, evidence,\nan optional hint and doc link. Build it with `finding(…)`, then chain the methods below.")
        .func("finding(subject, message)", "A finding about a task. The message says what happened, naming the container and the key\nnumbers or strings.", |task: TaskHandle, message: &str| {
            new_finding(
                Subject::Task {
                    task: task.index,
                    container: None,
                },
                message,
            )
        })
        .func("finding(subject, message)", "A finding about a container of a task (the report names the container).", |container: ContainerHandle, message: &str| {
            let name = container.container().name.clone();
            new_finding(
                Subject::Task {
                    task: container.task,
                    container: name,
                },
                message,
            )
        })
        .func("finding(subject, message)", "A finding about a service, for service-level failures (placement, deployments).", |service: ServiceHandle, message: &str| {
            new_finding(Subject::Service(service.index), message)
        })
        .func("finding(subject, message)", "A finding about a task definition, for configuration checks (`RULE.checks`, run by\n`ecs-autopsy lint`).", |definition: TaskDefinitionHandle, message: &str| {
            new_finding(Subject::TaskDefinition { definition: definition.index, container: None }, message)
        })
        .func("finding(subject, message)", "A finding about a container definition of a task definition (the report names the\ncontainer), for configuration checks.", |container: ContainerDefinitionHandle, message: &str| {
            let name = container.definition().name.clone();
            new_finding(Subject::TaskDefinition { definition: container.definition, container: name }, message)
        })
        .func("finding(subject, message)", "A finding about a `failures[]` entry of DescribeTasks or RunTask, when there is no task to
report on (a RunTask that placed nothing).", |failure: FailureHandle, message: &str| {
            new_finding(Subject::Failure(failure.index), message)
        })
        .func("finding(subject, message)", "A finding about an EventBridge event from ECS (a failed deployment, a service that cannot\nstart or place tasks), reported under the event's service, for bundles with no\nDescribeServices response.", |event: EcsEventHandle, message: &str| {
            new_finding(Subject::Event(event.index), message)
        })
        .get("message", "The finding's message.", |f: &mut ScriptFinding| f.message.clone())
        .func("evidence(fact)", "Adds one `Fact` as evidence; returns the finding.", |f: &mut ScriptFinding, fact: Fact| {
            f.evidence.push(fact);
            f.clone()
        })
        .func("evidence(facts)", "Adds each `Fact` of an array as evidence, skipping `()` (a missing optional fact); returns\nthe finding.",
            |f: &mut ScriptFinding, facts: Array| -> RhaiResult<ScriptFinding> {
                for fact in facts {
                    // A missing optional fact (`()`) is skipped; anything else must be a Fact.
                    if fact.is_unit() {
                        continue;
                    }
                    let type_name = fact.type_name();
                    let fact = fact
                        .try_cast::<Fact>()
                        .ok_or_else(|| format!("evidence() takes Facts, not {type_name}"))?;
                    f.evidence.push(fact);
                }
                Ok(f.clone())
            },
        )
        .func("evidence(facts)", "", |f: &mut ScriptFinding, (): ()| f.clone())
        .func("hint(text)", "Sets the one actionable sentence the report prints under the finding.", |f: &mut ScriptFinding, text: &str| {
            f.hint = Some(text.to_owned());
            f.clone()
        })
        .func("doc(url)", "Sets a documentation link for the finding.", |f: &mut ScriptFinding, url: &str| {
            f.doc_url = Some(url.to_owned());
            f.clone()
        })
        .func("symptom()", "Marks the finding as a consequence of another finding's root cause (a 143 after a\nhealth-check kill). The report links it to the root cause.", |f: &mut ScriptFinding| {
            f.symptom = true;
            f.clone()
        })
        .func("problem()", "Marks a finding of a benign rule as a problem after all, an error and a root cause: the\nplatform acted as designed, but because of the user's own configuration (an instance ECS\nreplaced because the user's daemon failed). No effect in a rule that is not benign.", |f: &mut ScriptFinding| {
            f.problem = true;
            f.clone()
        })
        .func("caused_by(task)", "Marks the finding as a symptom of another task's root cause (a rollback caused by failed\ntasks).", |f: &mut ScriptFinding, task: TaskHandle| {
            // A symptom whose root cause is another task's (a rollback caused by failed tasks).
            f.symptom = true;
            f.caused_by = Some(task.index);
            f.clone()
        })
        .func("caused_by(task)", "", |f: &mut ScriptFinding, (): ()| f.clone());
}
