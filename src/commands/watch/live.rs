//! The live screen of `watch` on a terminal: keeps each object's recent history, turns keys
//! into [`Ui`] changes, fetches a CAPTControlPlane's inputs for the history view's diagnosis
//! (the `status` logic: which Secret and key to fix), and draws the frames `render::live` lays
//! out for the terminal's size.

use std::collections::BTreeMap;

use tokio::sync::mpsc;

use super::terminal::{TermEvent, Terminal};
use crate::detect::recent::Recent;
use crate::detect::{Detector, Finding};
use crate::error::Result;
use crate::k8s::Kube;
use crate::k8s::watch::now_ms;
use crate::observe::{ObjectKey, Observation, SourceState};
use crate::reconcile::report::report;
use crate::render::live::{self, Diagnosis, Header, HistoryView, Reaction, Ui};

/// How the screen ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Quit,
    Interrupt,
}

/// What woke the screen up.
pub enum Wake {
    TermEvent(TermEvent),
    Diagnosed(ObjectKey, Diagnosis),
}

pub struct Live {
    term: Terminal,
    pub ui: Ui,
    recent: Recent,
    title: String,
    kube: Kube,
    /// The rows on screen, in order: what ↑↓ and Enter move over.
    rows: Vec<ObjectKey>,
    diagnosis: Option<(ObjectKey, Diagnosis)>,
    tx: mpsc::UnboundedSender<(ObjectKey, Diagnosis)>,
    rx: mpsc::UnboundedReceiver<(ObjectKey, Diagnosis)>,
    input_closed: bool,
}

impl Live {
    pub fn start(kube: Kube, color: bool, show_all: bool, title: String) -> Result<Live> {
        let (tx, rx) = mpsc::unbounded_channel();
        Ok(Live {
            term: Terminal::enter(color)?,
            ui: Ui { show_all, ..Ui::default() },
            recent: Recent::default(),
            title,
            kube,
            rows: Vec::new(),
            diagnosis: None,
            tx,
            rx,
            input_closed: false,
        })
    }

    pub fn observe(&mut self, o: &Observation) {
        self.recent.observe(o);
    }

    pub async fn next(&mut self) -> Wake {
        tokio::select! {
            input = self.term.next(), if !self.input_closed => Wake::TermEvent(input),
            Some((key, d)) = self.rx.recv() => Wake::Diagnosed(key, d),
        }
    }

    /// Handles what woke the screen; `Some` when it should end.
    pub fn wake(
        &mut self,
        wake: Wake,
        findings: Vec<Finding>,
        states: &BTreeMap<String, SourceState>,
    ) -> Result<Option<End>> {
        match wake {
            Wake::TermEvent(TermEvent::Key(k)) => match self.ui.key(k, &self.rows) {
                Reaction::Quit => return Ok(Some(End::Quit)),
                Reaction::Interrupt => return Ok(Some(End::Interrupt)),
                Reaction::Open(key) => self.open(key),
                Reaction::Redraw => {}
            },
            Wake::TermEvent(TermEvent::Closed) => self.input_closed = true,
            Wake::TermEvent(TermEvent::Resize | TermEvent::Other) => {}
            Wake::Diagnosed(key, d) => self.diagnosis = Some((key, d)),
        }
        self.draw(findings, states)?;
        Ok(None)
    }

    /// Opens the history of `key`: for a CAPTControlPlane, its inputs are read and judged by
    /// the same logic as `status` (in the background; the screen says it is pending).
    fn open(&mut self, key: ObjectKey) {
        let capt = key.kind == "CAPTControlPlane" && key.group == "controlplane.cluster.x-k8s.io";
        let Some(ns) = key.namespace.clone().filter(|_| capt) else {
            self.diagnosis = Some((key, Diagnosis::None));
            return;
        };
        self.diagnosis = Some((key.clone(), Diagnosis::Pending));
        let (kube, tx) = (self.kube.clone(), self.tx.clone());
        tokio::spawn(async move {
            let d = match crate::k8s::snapshot::fetch_snapshot(&kube, &ns, &key.name).await {
                Ok(snap) => {
                    let now = chrono::Utc::now();
                    let r = report(&snap, &crate::reconcile::plan(&snap, now), now);
                    let mut lines = vec![format!(
                        "one pass decides {} ({}), requeue {}",
                        r.phase.as_deref().unwrap_or("-"),
                        r.reason.as_deref().unwrap_or("-"),
                        r.requeue
                    )];
                    lines.extend(r.findings.iter().map(|f| f.message.clone()));
                    Diagnosis::Lines(lines)
                }
                Err(e) => Diagnosis::Failed(e.to_string()),
            };
            let _ = tx.send((key, d));
        });
    }

    /// Draws the current view at the terminal's size.
    pub fn draw(&mut self, findings: Vec<Finding>, states: &BTreeMap<String, SourceState>) -> Result<()> {
        let (width, height) = self.term.size();
        let header = Header { title: self.title.clone(), now: now_ms(), sources: states.clone() };
        let lines = match self.ui.history.clone() {
            Some(key) => {
                let finding = findings.iter().find(|f| f.key() == key);
                let entries = self.recent.of(&key);
                let diagnosis = match &self.diagnosis {
                    Some((k, d)) if *k == key => d.clone(),
                    _ => Diagnosis::None,
                };
                let h = HistoryView { key: &key, finding, entries: &entries, diagnosis: &diagnosis };
                live::history_screen(&header, &h, &self.ui, width, height)
            }
            None => {
                self.rows = live::row_keys(findings.clone(), &self.ui);
                live::table_screen(&header, findings, &self.ui, width, height)
            }
        };
        self.term.draw(&lines)
    }

    /// Restores the terminal.
    pub fn leave(&mut self) {
        self.term.leave();
    }
}

/// Waits for the screen, or forever without one.
pub async fn next(live: &mut Option<Live>) -> Wake {
    match live {
        Some(l) => l.next().await,
        None => std::future::pending().await,
    }
}

/// Redraws, if there is a screen.
pub fn draw(
    live: &mut Option<Live>,
    detector: &Detector,
    states: &BTreeMap<String, SourceState>,
) -> Result<()> {
    match live {
        Some(l) => l.draw(detector.findings(now_ms()), states),
        None => Ok(()),
    }
}
