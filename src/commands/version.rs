//! `kubectl capt version`: like `kubectl version`, the client version first, then the server's;
//! when the server cannot be asked, the client version is still printed and the error decides
//! the exit code. `--client` never contacts the server.

use crate::error::{ExitStatus, Result};
use crate::k8s::Op;
use crate::settings::Settings;

const CLIENT: &str = env!("CARGO_PKG_VERSION");

pub async fn run(client_only: bool, settings: &Settings) -> Result<ExitStatus> {
    if client_only {
        super::emit(&render(None, settings)?)?;
        return Ok(ExitStatus::Ok);
    }
    if !settings.is_machine_output() {
        // Shown even when the server is unreachable, as kubectl does.
        super::emit(&render(None, settings)?)?;
    }
    let server = fetch_server_version(settings).await;
    match server {
        Ok(v) => {
            let text = if settings.is_machine_output() {
                render(Some(&v), settings)?
            } else {
                format!("Server Version: {v}\n")
            };
            super::emit(&text)?;
            Ok(ExitStatus::Ok)
        }
        Err(e) => {
            if settings.is_machine_output() {
                super::emit(&render(None, settings)?)?;
            }
            Err(e)
        }
    }
}

async fn fetch_server_version(settings: &Settings) -> Result<String> {
    let kube = crate::k8s::connect(&settings.target).await?;
    let op = Op::core("get", "/version", "version", None, None);
    kube.client.apiserver_version().await.map(|v| v.git_version).map_err(|e| kube.error(&op, e))
}

fn render(server: Option<&str>, settings: &Settings) -> Result<String> {
    let mut view = serde_json::json!({"clientVersion": CLIENT});
    if let Some(s) = server {
        view["serverVersion"] = s.into();
    }
    Ok(match crate::render::to_document(&view, settings.output)? {
        Some(doc) => doc,
        None => format!("Client Version: {CLIENT}\n"),
    })
}
