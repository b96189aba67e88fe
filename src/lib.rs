//! kubectl-capt: a kubectl plugin for debugging CAPT's CAPTControlPlane controller and any
//! controller's reconcile loops.
//!
//! The pure parts ([`model`], [`reconcile`], [`detect`], [`parse`], [`render`]) never touch the
//! network, the clock or the environment; [`k8s`] is the only module that holds a client, and
//! [`commands`] wires them together: fetch → compute → render → emit.

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod complete;
pub mod crd;
pub mod detect;
pub mod error;
pub mod hash;
pub mod k8s;
pub mod model;
pub mod observe;
pub mod parse;
pub mod reconcile;
pub mod render;
pub mod sanitize;
pub mod settings;
