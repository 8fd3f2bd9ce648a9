//! `mailwire`: the command-line face of Mailwire, for scripts and support staff.
//!
//! It parses arguments, calls `mailwire-core`, and prints. Exit status: 0 when every step passed
//! or was skipped, 1 when a check failed, 2 for bad input or usage, 130 when cancelled.

mod output;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mailwire_core::certificate;
use mailwire_core::check::{Progress, Report};
use mailwire_core::google::{self, GoogleInput, GoogleSettings};
use mailwire_core::http::{Http, ProxySettings};
use mailwire_core::microsoft::{self, Cloud, Credential, MicrosoftInput, MicrosoftSettings};
use mailwire_core::profile::{self, GoogleProfile, LastCheck, Profile, ProviderSettings, RunOptions};
use mailwire_core::secret::{KeyringStore, SecretKind, SecretStore, SecretString};
use mailwire_core::store::{self, Store};
use mailwire_core::token::TokenCache;
use mailwire_core::{diagnose, validate};

#[derive(Parser)]
#[command(
    name = "mailwire",
    version,
    about = "Set up and verify sending mail through the Microsoft Graph and Gmail APIs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    network: NetworkArgs,
}

#[derive(Args, Clone)]
struct NetworkArgs {
    /// Extra CA certificates (PEM bundle or DER) to trust, e.g. a TLS-inspecting proxy's root.
    #[arg(long, global = true, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Proxy URL for all requests (default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY and system settings).
    #[arg(long, global = true, value_name = "URL")]
    proxy: Option<String>,
    /// Overall timeout per request, in seconds (default: the saved network settings, else 30).
    #[arg(long, global = true, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Connect timeout, in seconds (default: the saved network settings, else 10).
    #[arg(long, global = true, value_name = "SECONDS")]
    connect_timeout: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the checks of a connection (and send a test email with --to).
    Check(CheckArgs),
    /// Google Workspace helpers.
    Google {
        #[command(subcommand)]
        command: GoogleCommand,
    },
    /// Saved connections.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct CheckArgs {
    #[command(subcommand)]
    provider: Option<CheckProvider>,
    /// A saved connection's name or ID.
    #[arg(long)]
    profile: Option<String>,
    /// Send the test email to this address.
    #[arg(long, value_name = "ADDRESS")]
    to: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// With --profile: check every sender listed in FILE (one address per line) instead of the
    /// connection's own; --json then prints an array.
    #[arg(long, value_name = "FILE", requires = "profile")]
    senders: Option<PathBuf>,
    /// With --senders: how many mailboxes are checked at the same time.
    #[arg(long, value_name = "N", default_value_t = mailwire_core::bulk::DEFAULT_CONCURRENCY)]
    concurrency: usize,
}

#[derive(Subcommand)]
enum CheckProvider {
    /// Microsoft 365: client credentials, Mail.Send, Graph sendMail. The secret comes from
    /// MAILWIRE_CLIENT_SECRET or standard input, never from the command line.
    Microsoft(MicrosoftArgs),
    /// Google Workspace: service account key, domain-wide delegation, Gmail API.
    Google(GoogleArgs),
}

#[derive(Args, Clone)]
struct MicrosoftArgs {
    /// Directory (tenant) ID or a verified domain.
    #[arg(long)]
    tenant: String,
    /// Application (client) ID.
    #[arg(long)]
    client_id: String,
    /// The mailbox to send from.
    #[arg(long)]
    sender: String,
    #[arg(long, value_name = "ADDRESS")]
    to: Option<String>,
    #[arg(long, value_enum, default_value_t = CloudArg::Global)]
    cloud: CloudArg,
    /// Read the client secret from standard input instead of MAILWIRE_CLIENT_SECRET.
    #[arg(long)]
    client_secret_stdin: bool,
    /// Authenticate with this certificate instead of a client secret: a .pfx/.p12 file (its
    /// password from MAILWIRE_CERTIFICATE_PASSWORD or --certificate-password-stdin), or PEM/DER
    /// with the private key from --private-key or from the same file when it holds both.
    #[arg(long, value_name = "FILE", conflicts_with = "client_secret_stdin")]
    certificate: Option<PathBuf>,
    /// The certificate's RSA private key (PEM, not password-protected).
    #[arg(long, value_name = "PEM", requires = "certificate")]
    private_key: Option<PathBuf>,
    /// Read the .pfx file's password from standard input instead of MAILWIRE_CERTIFICATE_PASSWORD.
    #[arg(long, requires = "certificate")]
    certificate_password_stdin: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Clone)]
struct GoogleArgs {
    /// The service account's JSON key file.
    #[arg(long, value_name = "PATH")]
    key_file: PathBuf,
    /// The Workspace user to send as.
    #[arg(long)]
    sender: String,
    #[arg(long, value_name = "ADDRESS")]
    to: Option<String>,
    /// OAuth scope to check (repeatable); default https://mail.google.com/.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum CloudArg {
    Global,
    Usgov,
    UsgovDod,
    China,
}

impl From<CloudArg> for Cloud {
    fn from(value: CloudArg) -> Self {
        match value {
            CloudArg::Global => Cloud::Global,
            CloudArg::Usgov => Cloud::Usgov,
            CloudArg::UsgovDod => Cloud::UsgovDod,
            CloudArg::China => Cloud::China,
        }
    }
}

#[derive(Subcommand)]
enum GoogleCommand {
    /// Print the client ID, scopes and the prefilled Admin console link for domain-wide delegation.
    ShowDelegation {
        #[arg(long, value_name = "PATH")]
        key_file: PathBuf,
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// List saved connections.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one connection (never its secrets).
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Save a new connection; its secret goes to the system keychain.
    Add {
        #[command(subcommand)]
        provider: AddProvider,
    },
    /// Delete a connection and its secrets.
    Remove { name: String },
    /// Rename a connection.
    Rename { name: String, new_name: String },
    /// Print a connection as JSON without secrets, to move it to another computer.
    Export {
        name: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Import an exported connection; its secret is asked for (MAILWIRE_CLIENT_SECRET,
    /// --client-secret-stdin, --key-file or --private-key).
    Import {
        file: PathBuf,
        /// Save it under another name.
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        client_secret_stdin: bool,
        #[arg(long, value_name = "PATH")]
        key_file: Option<PathBuf>,
        /// The certificate's private key (PEM, or the .pfx it came in), for a connection that
        /// signs in with a certificate.
        #[arg(long, value_name = "PATH")]
        private_key: Option<PathBuf>,
        /// Read the .pfx file's password from standard input instead of MAILWIRE_CERTIFICATE_PASSWORD.
        #[arg(long, requires = "private_key", conflicts_with = "client_secret_stdin")]
        certificate_password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum AddProvider {
    Microsoft {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        args: MicrosoftArgs,
        /// Create a certificate for the app instead of using a client secret: its private key goes
        /// to the system keychain and the public certificate to FILE, to upload to Entra.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate", "client_secret_stdin"])]
        new_certificate: Option<PathBuf>,
    },
    Google {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        args: GoogleArgs,
    },
}

/// A failure that ends the command with a message and an exit status.
struct Exit {
    code: u8,
    message: String,
}

impl Exit {
    fn usage(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

impl<E: std::fmt::Display> From<E> for Exit {
    fn from(error: E) -> Self {
        Exit::usage(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Diagnostics for support staff go to standard error, only when asked for; standard output
    // stays the report alone.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("MAILWIRE_LOG") {
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mailwire: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(exit) => {
            eprintln!("mailwire: {}", exit.message);
            ExitCode::from(exit.code)
        }
    }
}

async fn run(cli: Cli) -> Result<u8, Exit> {
    match cli.command {
        Command::Check(args) => check(args, &cli.network).await,
        Command::Google { command: GoogleCommand::ShowDelegation { key_file, scopes, json } } => {
            show_delegation(&key_file, scopes, json)
        }
        Command::Profile { command } => profile_command(command).await,
    }
}

/// The HTTP client: flags first, then the network settings saved by the app, then defaults.
fn http(network: &NetworkArgs) -> Result<Http, Exit> {
    let saved = Store::open_default().and_then(|store| store.load()).map(|loaded| loaded.settings).unwrap_or_default();
    let saved_password = || {
        saved.proxy_url.as_ref()?;
        KeyringStore::for_this_build().get(store::SETTINGS_SECRET_ID, SecretKind::ProxyPassword).ok().flatten()
    };
    let mut settings = saved.to_http(saved_password());
    if let Some(url) = &network.proxy {
        settings.proxy = Some(ProxySettings {
            url: url.clone(),
            username: env_nonempty("MAILWIRE_PROXY_USER"),
            password: env_nonempty("MAILWIRE_PROXY_PASSWORD").map(SecretString::new),
        });
    }
    if let Some(path) = &network.ca_file {
        settings.ca_file = Some(path.clone());
    }
    if let Some(seconds) = network.connect_timeout {
        settings.connect_timeout = Duration::from_secs(seconds.max(1));
    }
    if let Some(seconds) = network.timeout {
        settings.request_timeout = Duration::from_secs(seconds.max(1));
    }
    Ok(Http::new(settings)?)
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn microsoft_input(args: &MicrosoftArgs) -> MicrosoftInput {
    MicrosoftInput {
        tenant: args.tenant.clone(),
        client_id: args.client_id.clone(),
        cloud: args.cloud.into(),
        authority_host: env_nonempty("MAILWIRE_MS_AUTHORITY_HOST"),
        graph_url: env_nonempty("MAILWIRE_GRAPH_URL"),
        certificate: None,
    }
}

/// The file a new certificate's public half goes to, for upload to Entra. It is claimed before the
/// connection is saved, so an existing file is never overwritten, and removed again if the save
/// fails, so no certificate is left whose key was never stored.
struct UploadFile {
    path: PathBuf,
    file: Option<std::fs::File>,
    created: certificate::CertificateCredential,
}

impl UploadFile {
    fn reserve(path: &Path, created: certificate::CertificateCredential) -> Result<Self, Exit> {
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
            Exit::usage(format!("cannot create {} for the certificate: {e} (choose a new file name)", path.display()))
        })?;
        Ok(Self { path: path.to_path_buf(), file: Some(file), created })
    }

    fn write(mut self) -> Result<(), Exit> {
        use std::io::Write as _;
        let mut file = self.file.take().expect("written once");
        file.write_all(self.created.certificate_pem.as_bytes()).map_err(|e| {
            Exit::usage(format!(
                "the connection was saved, but {} could not be written ({e}); run 'mailwire profile show' for the thumbprint and create the certificate again",
                self.path.display()
            ))
        })?;
        eprintln!(
            "Created a certificate (thumbprint {}, valid until {}) and wrote it to {}.\n\
             Upload that file in the Entra admin center: App registrations → your app → Certificates & secrets → \
             Certificates → Upload certificate. The private key is kept in the system keychain.",
            self.created.facts.thumbprint,
            self.created.facts.not_after.format("%Y-%m-%d"),
            self.path.display()
        );
        Ok(())
    }
}

impl Drop for UploadFile {
    fn drop(&mut self) {
        // Still holding the file means it was never written: the save failed.
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn google_input(scopes: Vec<String>) -> GoogleInput {
    GoogleInput {
        scopes,
        token_url: env_nonempty("MAILWIRE_GOOGLE_TOKEN_URL"),
        gmail_url: env_nonempty("MAILWIRE_GMAIL_URL"),
    }
}

/// The client secret, from standard input or MAILWIRE_CLIENT_SECRET; never from arguments.
/// A secret from standard input when asked for, else from `variable`; never from arguments.
fn secret_input(from_stdin: bool, variable: &str, what: &str) -> Result<Option<SecretString>, Exit> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| Exit::usage(format!("cannot read the {what} from standard input: {e}")))?;
        // Trimmed in place and moved, so no copy of the secret is left behind unwiped.
        while text.ends_with(['\r', '\n']) {
            text.pop();
        }
        let secret = SecretString::new(text);
        return if secret.is_empty() {
            Err(Exit::usage(format!("the {what} on standard input is empty")))
        } else {
            Ok(Some(secret))
        };
    }
    Ok(std::env::var(variable).ok().filter(|s| !s.trim().is_empty()).map(SecretString::new))
}

fn client_secret(from_stdin: bool) -> Result<Option<SecretString>, Exit> {
    secret_input(from_stdin, "MAILWIRE_CLIENT_SECRET", "client secret")
}

/// A .pfx file needs its password; other certificate files ignore it.
fn pfx_password(from_stdin: bool) -> Result<Option<SecretString>, Exit> {
    secret_input(from_stdin, "MAILWIRE_CERTIFICATE_PASSWORD", "certificate password")
}

fn certificate_error(error: certificate::CertificateError) -> Exit {
    match error {
        certificate::CertificateError::PfxPasswordNeeded => Exit::usage(
            "the .pfx file is protected by a password: set MAILWIRE_CERTIFICATE_PASSWORD or pipe it with --certificate-password-stdin",
        ),
        other => other.into(),
    }
}

fn read_certificate(args: &MicrosoftArgs, path: &Path) -> Result<certificate::CertificateCredential, Exit> {
    let password = pfx_password(args.certificate_password_stdin)?;
    certificate::read_files(path, args.private_key.as_deref(), password.as_ref()).map_err(certificate_error)
}

fn require_secret(from_stdin: bool) -> Result<SecretString, Exit> {
    client_secret(from_stdin)?.ok_or_else(|| {
        Exit::usage("missing client secret: set MAILWIRE_CLIENT_SECRET or pipe it with --client-secret-stdin (it is never taken from arguments)")
    })
}

async fn check(args: CheckArgs, network: &NetworkArgs) -> Result<u8, Exit> {
    let http = http(network)?;
    let cache = std::sync::Arc::new(TokenCache::default());
    match (args.provider, args.profile) {
        (Some(CheckProvider::Microsoft(ms)), _) => {
            let settings = MicrosoftSettings::validate(&microsoft_input(&ms), &ms.sender)?;
            let recipient = ms.to.as_deref().map(|to| validate::email("to", to)).transpose()?;
            let credential = match &ms.certificate {
                Some(certificate) => {
                    let read = read_certificate(&ms, certificate)?;
                    Credential::Certificate { certificate_pem: read.certificate_pem, private_key_pem: read.private_key_pem }
                }
                None => Credential::Secret(require_secret(ms.client_secret_stdin)?),
            };
            let options = microsoft::CheckOptions {
                profile_name: None,
                recipient,
                reuse_token: false,
                uses_certificate: ms.certificate.is_some(),
            };
            let printer = output::Printer::new(ms.json);
            let progress = |event: Progress<'_>| printer.progress(event);
            let report =
                cancellable(microsoft::run_check(&http, &settings, Some(&credential), &options, &cache, &progress)).await?;
            Ok(printer.finish(&report))
        }
        (Some(CheckProvider::Google(g)), _) => {
            let key = google::read_key_file(&g.key_file)?;
            let settings = GoogleSettings::validate(&google_input(g.scopes.clone()), &key.facts, &g.sender)?;
            let recipient = g.to.as_deref().map(|to| validate::email("to", to)).transpose()?;
            let options = google::CheckOptions { profile_name: None, recipient };
            let printer = output::Printer::new(g.json);
            let progress = |event: Progress<'_>| printer.progress(event);
            let report = cancellable(google::run_check(&http, &settings, Ok(&key), &options, &cache, &progress)).await?;
            Ok(printer.finish(&report))
        }
        (None, Some(name)) => {
            let store = Store::open_default()?;
            let profile = store.find(&name)?.with_env_endpoints();
            // The environment's client secret stands in for the keychain's, never for a key.
            let secret = match profile.required_secret() {
                SecretKind::ClientSecret => client_secret(false)?,
                _ => None,
            };
            let keychain = KeyringStore::for_this_build();
            if let Some(path) = &args.senders {
                let text = String::from_utf8(read_limited(path)?)
                    .map_err(|_| Exit::usage(format!("{} is not a text file", path.display())))?;
                let senders = mailwire_core::bulk::parse_senders(&text).map_err(Exit::usage)?;
                let work = mailwire_core::bulk::check_senders(
                    &profile,
                    &senders,
                    &keychain,
                    secret,
                    &http,
                    &cache,
                    args.to.clone(),
                    args.concurrency,
                );
                let reports = cancellable(work).await??;
                return Ok(output::print_sender_table(&reports, args.json));
            }
            let options = RunOptions {
                send: args.to.is_some() || profile.recipient.is_some(),
                recipient: args.to.clone(),
                reuse_token: false,
            };
            let printer = output::Printer::new(args.json);
            let progress = |event: Progress<'_>| printer.progress(event);
            let report = cancellable(profile::run_profile_check(&profile, &keychain, secret, &http, &cache, &options, &progress))
                .await??;
            record_last_check(&store, &profile.id, &report);
            Ok(printer.finish(&report))
        }
        (None, None) => Err(Exit::usage("say what to check: 'mailwire check microsoft …', 'mailwire check google …' or 'mailwire check --profile NAME'")),
    }
}

/// Runs a check until it finishes or Ctrl-C arrives; dropping the future cancels its requests.
async fn cancellable<T>(work: impl std::future::Future<Output = T>) -> Result<T, Exit> {
    tokio::select! {
        result = work => Ok(result),
        _ = tokio::signal::ctrl_c() => Err(Exit { code: 130, message: "cancelled; nothing was saved".into() }),
    }
}

fn record_last_check(store: &Store, id: &str, report: &Report) {
    let result = store.update(|profiles| {
        if let Some(p) = profiles.iter_mut().find(|p| p.id == id) {
            p.last_check = Some(LastCheck::from_report(report));
        }
        Ok(())
    });
    if let Err(e) = result {
        eprintln!("mailwire: the result could not be saved with the connection: {e}");
    }
}

fn show_delegation(key_file: &std::path::Path, scopes: Vec<String>, json: bool) -> Result<u8, Exit> {
    let key = google::read_key_file(key_file)?;
    let scopes = if scopes.is_empty() { vec![google::SCOPE_FULL.to_string()] } else { scopes };
    let url = diagnose::delegation_url(&key.facts.client_id, &scopes);
    if json {
        let value = serde_json::json!({
            "client_id": key.facts.client_id,
            "client_email": key.facts.client_email,
            "project_id": key.facts.project_id,
            "scopes": scopes,
            "scope_string": google::scope_string(&scopes),
            "admin_console_url": url,
        });
        println!("{value}");
    } else {
        println!("Service account: {}", key.facts.client_email);
        println!("Client ID:       {}", key.facts.client_id);
        println!("OAuth scopes:    {}", google::scope_string(&scopes));
        println!();
        println!("In the Google Admin console go to Security → Access and data control → API controls →");
        println!("Manage domain-wide delegation → Add new, paste the Client ID and the scopes, and Authorize.");
        println!("Or open this prefilled page:");
        println!("{url}");
    }
    Ok(0)
}

async fn profile_command(command: ProfileCommand) -> Result<u8, Exit> {
    let store = Store::open_default()?;
    let keychain = KeyringStore::for_this_build();
    match command {
        ProfileCommand::List { json } => {
            let loaded = store.load()?;
            warn_recovered(loaded.recovered.as_deref());
            output::print_profiles(&loaded.profiles, json);
            Ok(0)
        }
        ProfileCommand::Show { name, json } => {
            let profile = store.find(&name)?;
            let stored = keychain.get(&profile.id, profile.required_secret()).map(|s| s.is_some());
            output::print_profile(&profile, stored, json);
            Ok(0)
        }
        ProfileCommand::Add { provider } => {
            let mut upload = None;
            let (profile, secret) = match provider {
                AddProvider::Microsoft { name, args, new_certificate } => {
                    let mut input = microsoft_input(&args);
                    let secret = match (&new_certificate, &args.certificate) {
                        (Some(out), _) => {
                            let created = certificate::create(&format!("Mailwire {name}"))?;
                            input.certificate = Some(created.certificate_pem.clone());
                            let key = created.private_key_pem.clone();
                            upload = Some(UploadFile::reserve(out, created)?);
                            key
                        }
                        (None, Some(path)) => {
                            let read = read_certificate(&args, path)?;
                            input.certificate = Some(read.certificate_pem);
                            read.private_key_pem
                        }
                        (None, None) => require_secret(args.client_secret_stdin)?,
                    };
                    let settings = ProviderSettings::Microsoft(input);
                    (Profile::new(&name, settings, &args.sender, args.to.as_deref()), secret)
                }
                AddProvider::Google { name, args } => {
                    let key = google::read_key_file(&args.key_file)?;
                    let settings = ProviderSettings::Google(GoogleProfile {
                        key: key.facts.clone(),
                        input: google_input(args.scopes),
                    });
                    (Profile::new(&name, settings, &args.sender, args.to.as_deref()), key.private_key)
                }
            };
            save_new_profile(&store, &keychain, profile, &secret)?;
            if let Some(upload) = upload {
                upload.write()?;
            }
            Ok(0)
        }
        ProfileCommand::Remove { name } => {
            let (removed, recovered) = store.update(|profiles| {
                let found = store::find_in(profiles, &name)
                    .map(|p| p.id.clone())
                    .ok_or_else(|| store::StoreError::NotFound(name.clone()))?;
                let index = profiles.iter().position(|p| p.id == found).expect("found above");
                Ok(profiles.remove(index))
            })?;
            warn_recovered(recovered.as_deref());
            if let Err(e) = keychain.delete_all(&removed.id) {
                eprintln!(
                    "mailwire: the connection was removed, but its secrets could not be deleted from the keychain: {e}"
                );
            }
            println!("Removed '{}' and its stored secrets.", removed.name);
            Ok(0)
        }
        ProfileCommand::Rename { name, new_name } => {
            let check = validate::check_field("name", &new_name);
            if check.level == validate::Level::Error {
                return Err(Exit::usage(check.message));
            }
            store.update(|profiles| {
                store::ensure_unique_name(profiles, &new_name, None)?;
                let found = store::find_in(profiles, &name)
                    .map(|p| p.id.clone())
                    .ok_or_else(|| store::StoreError::NotFound(name.clone()))?;
                let profile = profiles.iter_mut().find(|p| p.id == found).expect("found above");
                profile.name = new_name.trim().to_string();
                profile.updated_at = chrono::Utc::now();
                Ok(())
            })?;
            println!("Renamed '{name}' to '{}'.", new_name.trim());
            Ok(0)
        }
        ProfileCommand::Export { name, output } => {
            let profile = store.find(&name)?;
            let text =
                serde_json::to_string_pretty(&mailwire_core::store::export(&profile)).expect("profiles serialise");
            match output {
                Some(path) => std::fs::write(&path, text + "\n")
                    .map_err(|e| Exit::usage(format!("cannot write {}: {e}", path.display())))?,
                None => println!("{text}"),
            }
            Ok(0)
        }
        ProfileCommand::Import {
            file,
            name,
            client_secret_stdin,
            key_file,
            private_key,
            certificate_password_stdin,
        } => {
            let bytes = read_limited(&file)?;
            let mut profile = mailwire_core::store::import(&bytes)?;
            if let Some(name) = name {
                profile.name = name;
            }
            let secret = match &mut profile.settings {
                ProviderSettings::Microsoft(MicrosoftInput { certificate: Some(certificate_pem), .. }) => {
                    let path = private_key.ok_or_else(|| {
                        Exit::usage("this connection signs in with a certificate: add --private-key PATH (its PEM key, or the .pfx it came in)")
                    })?;
                    let password = pfx_password(certificate_password_stdin)?;
                    certificate::key_for(certificate_pem, &path, password.as_ref()).map_err(certificate_error)?
                }
                ProviderSettings::Microsoft(_) => require_secret(client_secret_stdin)?,
                ProviderSettings::Google(google_profile) => {
                    let path = key_file.ok_or_else(|| {
                        Exit::usage("this connection needs its service account key: add --key-file PATH")
                    })?;
                    let key = google::read_key_file(&path)?;
                    if key.facts.client_email != google_profile.key.client_email {
                        return Err(Exit::usage(format!(
                            "the key file belongs to {}, but the connection uses {}",
                            key.facts.client_email, google_profile.key.client_email
                        )));
                    }
                    google_profile.key = key.facts;
                    key.private_key
                }
            };
            save_new_profile(&store, &keychain, profile, &secret)?;
            Ok(0)
        }
    }
}

/// Exports and senders lists are small text files; anything larger is the wrong file.
const MAX_INPUT_FILE_BYTES: u64 = 8 * 1024 * 1024;

fn read_limited(path: &std::path::Path) -> Result<Vec<u8>, Exit> {
    let file = std::fs::File::open(path).map_err(|e| Exit::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Exit::usage(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_INPUT_FILE_BYTES {
        return Err(Exit::usage(format!("{} is larger than {} MiB", path.display(), MAX_INPUT_FILE_BYTES >> 20)));
    }
    Ok(bytes)
}

/// Keychain first: when it refuses, nothing is saved, so no connection exists without its secret.
fn save_new_profile(
    store: &Store,
    keychain: &dyn SecretStore,
    profile: Profile,
    secret: &SecretString,
) -> Result<(), Exit> {
    profile.validate().map_err(|e| Exit::usage(e.to_string()))?;
    let kind: SecretKind = profile.required_secret();
    keychain.put(&profile.id, kind, secret)?;
    let saved = store.update(|profiles| {
        store::ensure_unique_name(profiles, &profile.name, None)?;
        profiles.push(profile.clone());
        Ok(())
    });
    if let Err(e) = saved {
        let _ = keychain.delete_all(&profile.id);
        return Err(e.into());
    }
    println!("Saved '{}' ({}); its secret is in the system keychain.", profile.name, profile.provider().display_name());
    Ok(())
}

fn warn_recovered(recovered: Option<&str>) {
    if let Some(message) = recovered {
        eprintln!("mailwire: warning: {message}");
    }
}
