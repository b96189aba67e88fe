//! `kubectl capt version`.

use crate::cli::VersionArgs;
use crate::error::{ExitStatus, Result};
use crate::settings::Settings;

pub async fn run(args: &VersionArgs, settings: &Settings) -> Result<ExitStatus> {
    let client = env!("CARGO_PKG_VERSION");
    let server = if args.client {
        None
    } else {
        match crate::k8s::connect(&settings.target).await {
            Ok(kube) => match kube.client.apiserver_version().await {
                Ok(v) => Some(v.git_version),
                Err(e) => {
                    super::note(&format!(
                        "warning: server version unavailable: {}",
                        crate::k8s::error_chain(&e)
                    ));
                    None
                }
            },
            Err(e) => {
                super::note(&format!("warning: server version unavailable: {e}"));
                None
            }
        }
    };
    let view = serde_json::json!({"clientVersion": client, "serverVersion": server});
    let text = match crate::render::to_document(&view, settings.output)? {
        Some(doc) => doc,
        None => match &server {
            Some(s) => format!("Client Version: {client}\nServer Version: {s}\n"),
            None => format!("Client Version: {client}\n"),
        },
    };
    super::emit(&text)?;
    Ok(ExitStatus::Ok)
}
