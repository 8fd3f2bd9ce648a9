//! The control surface under `/_emulator/` for tests and tools in other processes: read and
//! clear the outbox, arm and clear faults, read request counters, and read or replace the
//! scenario. It mirrors the library's `Emulator` methods and is never subject to faults.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use crate::fault::{Fault, Route};
use crate::keys;
use crate::respond;
use crate::scenario::Scenario;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/outbox", get(outbox).delete(clear_outbox))
        .route("/_emulator/faults", get(faults).post(set_fault).delete(clear_faults))
        .route("/_emulator/requests", get(requests).delete(reset_requests))
        .route("/_emulator/scenario", get(scenario).put(replace_scenario))
}

fn bad_request(message: String) -> Response {
    respond::json(400, &json!({ "error": message }), &[])
}

async fn outbox(State(shared): State<Arc<Shared>>) -> Response {
    let outbox = shared.lock().outbox.clone();
    respond::json(200, &json!(outbox), &[])
}

async fn clear_outbox(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().outbox.clear();
    respond::empty(204, &[])
}

async fn faults(State(shared): State<Arc<Shared>>) -> Response {
    let faults = shared.lock().faults.clone();
    respond::json(200, &json!(faults), &[])
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetFault {
    route: Route,
    #[serde(default)]
    fault: Fault,
}

async fn set_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: SetFault = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(format!("expected {{\"route\": ..., \"fault\": {{...}}}}: {e}")),
    };
    if let Err(e) = request.fault.validate() {
        return bad_request(e.to_string());
    }
    shared.set_fault(request.route, request.fault);
    faults(State(shared)).await
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().faults.clear();
    respond::empty(204, &[])
}

async fn requests(State(shared): State<Arc<Shared>>) -> Response {
    respond::json(200, &json!(shared.request_counts()), &[])
}

async fn reset_requests(State(shared): State<Arc<Shared>>) -> Response {
    shared.lock().counts.clear();
    respond::empty(204, &[])
}

async fn scenario(State(shared): State<Arc<Shared>>) -> Response {
    let scenario = shared.lock().scenario.clone();
    respond::json(200, &json!(scenario), &[])
}

/// Replaces the whole world; tokens already issued stay valid, as they would at the providers.
async fn replace_scenario(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let mut scenario = match Scenario::from_json(&text) {
        Ok(s) => s,
        Err(e) => return bad_request(format!("invalid scenario: {e:#}")),
    };
    let filled = tokio::task::spawn_blocking(move || keys::fill_missing_keys(&mut scenario).map(|()| scenario)).await;
    match filled {
        Ok(Ok(scenario)) => {
            shared.lock().scenario = scenario;
            respond::empty(204, &[])
        }
        Ok(Err(e)) => respond::json(500, &json!({ "error": format!("{e:#}") }), &[]),
        Err(e) => respond::json(500, &json!({ "error": e.to_string() }), &[]),
    }
}
