//! The HTTPS client under [`kube::Client`], built here instead of by kube's `rustls-tls` feature.
//! That feature always links rustls-platform-verifier (and hyper-rustls' native roots), which on
//! macOS need the Security and CoreFoundation frameworks; the macOS release binaries are linked
//! on Linux, where no macOS SDK exists (docs/install.md). Trust comes from the kubeconfig's CA,
//! as with kubectl; a cluster entry without one is checked against the bundled Mozilla roots.
//! Authentication headers (token, token file, basic, exec tokens) stay kube's own layers.

use std::io::Read;
use std::sync::Arc;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::TokioExecutor;
use kube::client::{Body, ClientBuilder, ConfigExt};
use kube::config::ExecConfig;
use kube::{Client, Config};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use secrecy::ExposeSecret;
use tower::{BoxError, ServiceBuilder};

/// A client for `config`: its CA, client certificate, `insecure-skip-tls-verify`,
/// `tls-server-name`, timeouts and auth. Errors name what could not be loaded, never key bytes.
pub fn client(config: &Config) -> Result<Client, String> {
    let auth = config.auth_layer().map_err(|e| super::error_chain(&e))?;
    // kube's auth layer drops a client certificate returned by an exec plugin (it expects its
    // own TLS setup to ask for it), so ask the plugin here when it answered with no token.
    let exec_identity = match (&auth, &config.auth_info.exec) {
        (None, Some(exec)) => Some(exec_identity(exec)?),
        _ => None,
    };
    let tls = tls_config(config, exec_identity)?;

    let mut http = HttpConnector::new();
    http.enforce_http(false);
    match &config.proxy_url {
        None => finish(config, tls, auth, http),
        Some(proxy) => finish(config, tls, auth, tunnel(proxy, http)?),
    }
}

/// HTTPS (TLS with ALPN `h2`, `http/1.1`) over `transport`, timeouts, then kube's layers.
/// With h2 every request and watch of the invocation shares one connection: the pool keeps
/// one h2 connection per server and multiplexes on it; a server that only speaks HTTP/1.1
/// answers ALPN with `http/1.1` and gets the pooled HTTP/1.1 connections as before.
fn finish<T>(
    config: &Config,
    tls: ClientConfig,
    auth: Option<kube::client::middleware::AuthLayer>,
    transport: T,
) -> Result<Client, String>
where
    T: tower::Service<http::Uri> + Clone + Send + Sync + 'static,
    T::Response: hyper::rt::Read
        + hyper::rt::Write
        + hyper_util::client::legacy::connect::Connection
        + Send
        + Unpin
        + 'static,
    T::Future: Send + 'static,
    T::Error: Into<BoxError>,
{
    let mut https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name =
            ServerName::try_from(name.clone()).map_err(|e| format!("tls-server-name {name:?}: {e}"))?;
        https = https.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let https = https.enable_http1().enable_http2().wrap_connector(transport);
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http_client =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build::<_, Body>(connector);

    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(auth)
        .layer(config.extra_headers_layer().map_err(|e| super::error_chain(&e))?)
        .map_err(BoxError::from)
        .service(http_client);
    Ok(ClientBuilder::new(service, config.default_namespace.clone()).build())
}

/// The kubeconfig's `proxy-url`: an HTTP proxy that every connection goes through with
/// `CONNECT host:port` (as kubectl does for an https server), with Basic proxy authorization
/// from the URL's user info. The error names the proxy without its user info.
fn tunnel(proxy: &http::Uri, http: HttpConnector) -> Result<Tunnel<HttpConnector>, String> {
    use base64::Engine as _;
    let host = proxy.host().unwrap_or_default();
    let shown = match proxy.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    if proxy.scheme_str() != Some("http") {
        return Err(format!(
            "proxy-url {}://{shown}: only http:// proxies are supported",
            proxy.scheme_str().unwrap_or("")
        ));
    }
    let port = proxy.port_u16().unwrap_or(80);
    let dst: http::Uri = format!("http://{host}:{port}")
        .parse()
        .map_err(|_| format!("proxy-url http://{shown}: not a URL"))?;
    let tunnel = Tunnel::new(dst, http);
    let userinfo = proxy.authority().and_then(|a| a.as_str().rsplit_once('@')).map(|(u, _)| u);
    Ok(match userinfo {
        None => tunnel,
        Some(userinfo) => {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decode = |s: &str| percent_decode(s);
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                decode(user),
                decode(password)
            ));
            let value = http::HeaderValue::from_str(&format!("Basic {basic}"))
                .map_err(|_| format!("proxy-url http://{shown}: unusable user info"))?;
            tunnel.with_auth(value)
        }
    })
}

/// `%XX` escapes of a URL's user info.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Client certificate and key PEM, from an exec plugin's answer or the kubeconfig user.
struct Identity {
    cert: Vec<u8>,
    key: Vec<u8>,
}

fn tls_config(config: &Config, exec_identity: Option<Identity>) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let mut roots = RootCertStore::empty();
    match &config.root_cert {
        Some(certs) => {
            for der in certs {
                roots
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| format!("certificate-authority: {e}"))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let builder = builder.with_root_certificates(roots);
    let identity = match exec_identity {
        Some(identity) => Some(identity),
        None => kubeconfig_identity(config)?,
    };
    let mut tls = match identity {
        Some(Identity { cert, key }) => {
            let chain = CertificateDer::pem_slice_iter(&cert)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("client-certificate: {e}"))?;
            if chain.is_empty() {
                return Err("client-certificate: no CERTIFICATE block".to_string());
            }
            // The key's parse error could quote key material: say only what failed.
            let key = PrivateKeyDer::from_pem_slice(&key)
                .map_err(|_| "client-key: no PKCS#8, PKCS#1 or SEC1 private key".to_string())?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate and key: {e}"))?
        }
        None => builder.with_no_client_auth(),
    };
    if config.accept_invalid_certs {
        tls.dangerous().set_certificate_verifier(Arc::new(AcceptAnyServerCert(provider)));
    }
    Ok(tls)
}

/// `client-certificate(-data)` and `client-key(-data)` of the kubeconfig user (kube resolves
/// relative file paths against the kubeconfig's folder when it reads the file).
fn kubeconfig_identity(config: &Config) -> Result<Option<Identity>, String> {
    let user = &config.auth_info;
    let cert = load(
        "client-certificate",
        user.client_certificate_data.as_deref(),
        user.client_certificate.as_deref(),
    )?;
    let key_data = user.client_key_data.as_ref().map(|k| k.expose_secret().to_string());
    let key = load("client-key", key_data.as_deref(), user.client_key.as_deref())?;
    match (cert, key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(Identity { cert, key })),
        (Some(_), None) => Err("the kubeconfig user has a client certificate but no client key".to_string()),
        (None, Some(_)) => Err("the kubeconfig user has a client key but no client certificate".to_string()),
    }
}

/// `*-data` (base64) wins over the file, as in kubectl.
fn load(what: &str, data: Option<&str>, file: Option<&str>) -> Result<Option<Vec<u8>>, String> {
    use base64::Engine as _;
    if let Some(data) = data {
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map(Some)
            .map_err(|_| format!("{what}-data is not valid base64"));
    }
    let Some(path) = file else { return Ok(None) };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| format!("{what} {path}: {e}"))?;
    Ok(Some(bytes))
}

/// Runs the exec plugin the way kube does (args, env, `KUBERNETES_EXEC_INFO`) and takes the
/// client certificate and key of its ExecCredential.
fn exec_identity(exec: &ExecConfig) -> Result<Identity, String> {
    let command = exec.command.as_deref().ok_or("the kubeconfig user's exec has no command")?;
    let mut cmd = std::process::Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for env in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (env.get("name"), env.get("value")) {
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    let mut spec = serde_json::json!({ "interactive": false });
    if exec.provide_cluster_info
        && let Some(cluster) = &exec.cluster
    {
        spec["cluster"] = serde_json::to_value(cluster).map_err(|e| e.to_string())?;
    }
    let info = serde_json::json!({ "apiVersion": exec.api_version, "kind": "ExecCredential", "spec": spec });
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string());
    cmd.stdin(std::process::Stdio::null()).stderr(std::process::Stdio::inherit());
    let out = cmd.output().map_err(|e| format!("exec plugin {command}: {e}"))?;
    if !out.status.success() {
        return Err(format!("exec plugin {command} exited with {}", out.status));
    }
    let credential: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("exec plugin {command} did not print an ExecCredential"))?;
    let field = |name: &str| credential["status"][name].as_str().map(|s| s.as_bytes().to_vec());
    match (field("clientCertificateData"), field("clientKeyData")) {
        (Some(cert), Some(key)) => Ok(Identity { cert, key }),
        _ => Err(format!("exec plugin {command} returned neither a token nor a client certificate and key")),
    }
}

/// `insecure-skip-tls-verify: true`: any server certificate, but the handshake signatures are
/// still checked.
#[derive(Debug)]
struct AcceptAnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
