//! Parsers for what users have on disk or stream: controller logs, audit logs, watch dumps,
//! Events, Prometheus scrapes. Pure: bytes in, records and counted failures out.
pub mod logs;
