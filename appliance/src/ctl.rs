//! `mesolite ctl`: the operator's view of a cluster (state, agents, frameworks, tasks, version)
//! as a table, or the v1 JSON with `--json`.

use crate::client;
use crate::print_out;
use crate::v1::{self, from_json, WireEnum};
use hyper::StatusCode;
use mesolite_config::{CtlConfig, CtlQuery};
use std::fmt::Write;
use std::process::ExitCode;

pub fn main(cfg: CtlConfig) -> ExitCode {
    match smol::block_on(query(&cfg)) {
        Ok(text) => {
            print_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mesolite ctl: {e}");
            ExitCode::from(1)
        }
    }
}

async fn query(cfg: &CtlConfig) -> Result<String, String> {
    let addr = cfg.master.to_string();
    let call = match cfg.query {
        CtlQuery::State => "GET_STATE",
        CtlQuery::Agents => "GET_AGENTS",
        CtlQuery::Frameworks => "GET_FRAMEWORKS",
        CtlQuery::Tasks => "GET_TASKS",
        CtlQuery::Version => "GET_VERSION",
    };
    let (status, body) =
        client::post_json(&addr, "/api/v1", format!("{{\"type\":\"{call}\"}}"), &[])
            .await
            .map_err(|e| format!("master {addr} is unreachable: {e}"))?;
    if status != StatusCode::OK {
        return Err(format!(
            "master {addr} answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    if cfg.json {
        let mut text = String::from_utf8_lossy(&body).into_owned();
        text.push('\n');
        return Ok(text);
    }
    let resp: v1::operator::Response =
        from_json(&body).map_err(|e| format!("unexpected answer from {addr}: {e}"))?;
    Ok(render(cfg.query, &resp))
}

fn resources_text(list: &[v1::Resource]) -> String {
    match v1::resources_from_v1(list) {
        Ok(r) => r.to_string(),
        Err(_) => String::from("?"),
    }
}

/// Formats rows as left-aligned columns.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.len());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                let _ = write!(l, "{:w$}  ", c, w = widths[i]);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for row in &rows {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

fn agents_table(a: &v1::operator::GetAgents) -> String {
    let mut rows: Vec<Vec<String>> = a
        .agents
        .iter()
        .map(|ag| {
            vec![
                ag.agent_info
                    .id
                    .as_ref()
                    .map(|i| i.value.clone())
                    .unwrap_or_default(),
                format!("{}:{}", ag.agent_info.hostname, ag.agent_info.port),
                if ag.active {
                    "active".into()
                } else {
                    "inactive".into()
                },
                resources_text(&ag.total_resources),
                resources_text(&ag.allocated_resources),
            ]
        })
        .collect();
    for r in &a.recovered_agents {
        rows.push(vec![
            r.id.as_ref().map(|i| i.value.clone()).unwrap_or_default(),
            format!("{}:{}", r.hostname, r.port),
            "recovering".into(),
            resources_text(&r.resources),
            String::new(),
        ]);
    }
    table(&["ID", "ADDRESS", "STATE", "RESOURCES", "ALLOCATED"], rows)
}

fn frameworks_table(f: &v1::operator::GetFrameworks) -> String {
    let rows = f
        .frameworks
        .iter()
        .map(|fw| {
            vec![
                fw.framework_info
                    .id
                    .as_ref()
                    .map(|i| i.value.clone())
                    .unwrap_or_default(),
                fw.framework_info.name.clone(),
                fw.framework_info.role.clone().unwrap_or_else(|| "*".into()),
                if fw.connected {
                    "connected".into()
                } else {
                    "disconnected".into()
                },
            ]
        })
        .collect();
    table(&["ID", "NAME", "ROLE", "STATE"], rows)
}

fn tasks_table(t: &v1::operator::GetTasks) -> String {
    let rows = t
        .tasks
        .iter()
        .chain(t.completed_tasks.iter())
        .map(|task| {
            vec![
                task.task_id.value.clone(),
                task.name.clone(),
                task.state.wire_name().to_string(),
                task.agent_id.value.clone(),
                task.framework_id.value.clone(),
            ]
        })
        .collect();
    table(&["ID", "NAME", "STATE", "AGENT", "FRAMEWORK"], rows)
}

fn render(query: CtlQuery, resp: &v1::operator::Response) -> String {
    match query {
        CtlQuery::Version => resp
            .get_version
            .as_ref()
            .map(|v| {
                format!(
                    "mesos API {} ({})\n",
                    v.version_info.version,
                    v.version_info.git_tag.clone().unwrap_or_default()
                )
            })
            .unwrap_or_default(),
        CtlQuery::Agents => resp
            .get_agents
            .as_ref()
            .map(agents_table)
            .unwrap_or_default(),
        CtlQuery::Frameworks => resp
            .get_frameworks
            .as_ref()
            .map(frameworks_table)
            .unwrap_or_default(),
        CtlQuery::Tasks => resp.get_tasks.as_ref().map(tasks_table).unwrap_or_default(),
        CtlQuery::State => {
            let Some(s) = resp.get_state.as_ref() else {
                return String::new();
            };
            let mut out = String::from("AGENTS\n");
            out.push_str(&s.get_agents.as_ref().map(agents_table).unwrap_or_default());
            out.push_str("\nFRAMEWORKS\n");
            out.push_str(
                &s.get_frameworks
                    .as_ref()
                    .map(frameworks_table)
                    .unwrap_or_default(),
            );
            out.push_str("\nTASKS\n");
            out.push_str(&s.get_tasks.as_ref().map(tasks_table).unwrap_or_default());
            out
        }
    }
}
