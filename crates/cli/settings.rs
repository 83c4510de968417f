//! Where each setting comes from: a flag, else the environment (ldcli's
//! variable names), else the settings file, else a default.
//!
//! The settings file is `$XDG_CONFIG_HOME/iteration/config.json` (else
//! `~/.config/iteration/config.json`): a flat JSON object of the keys that
//! `iteration config` knows. It may hold the access token, so it is written
//! readable by its owner only, and a token in a file that others can read is
//! refused rather than used.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use iteration_api::client::BaseUrl;
use serde_json::{Map, Value};

use crate::args::{ClientOptions, OutputFormat, Scope, SettingKey};

/// Reads one environment variable; a closure so that tests need not touch
/// the process environment.
pub(crate) type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, ignoring empty values.
pub(crate) fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// The environment variables read for the token, in order.
const TOKEN_VARS: [&str; 2] = ["LD_ACCESS_TOKEN", "LD_API_KEY"];

/// The settings file's path, or `None` when neither `XDG_CONFIG_HOME` nor
/// `HOME` says where it would be.
pub(crate) fn file_path(env: Env<'_>) -> Option<PathBuf> {
    let base = match env("XDG_CONFIG_HOME") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        _ => PathBuf::from(env("HOME")?).join(".config"),
    };
    Some(base.join("iteration").join("config.json"))
}

/// The settings file's contents.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SettingsFile {
    pub(crate) path: Option<PathBuf>,
    values: Map<String, Value>,
}

impl SettingsFile {
    /// Reads the file; a missing file is empty.
    pub(crate) fn load(env: Env<'_>) -> Result<SettingsFile, String> {
        let Some(path) = file_path(env) else { return Ok(SettingsFile::default()) };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SettingsFile { path: Some(path), values: Map::new() });
            }
            Err(e) => return Err(format!("cannot read the settings file {}: {e}", path.display())),
        };
        let values = match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(values)) => values,
            Ok(_) => return Err(format!("the settings file {} is not a JSON object", path.display())),
            Err(e) => return Err(format!("the settings file {} is not JSON: {e}", path.display())),
        };
        Ok(SettingsFile { path: Some(path), values })
    }

    /// A key's value, when set to a string.
    pub(crate) fn get(&self, key: SettingKey) -> Option<&str> {
        self.values.get(key.name()).and_then(Value::as_str).filter(|v| !v.is_empty())
    }

    /// Sets or (with `None`) removes a key.
    pub(crate) fn set(&mut self, key: SettingKey, value: Option<String>) {
        match value {
            Some(value) => self.values.insert(key.name().to_owned(), Value::String(value)),
            None => self.values.remove(key.name()),
        };
    }

    /// Writes the file, readable and writable by its owner only.
    pub(crate) fn save(&self) -> Result<(), String> {
        let path = self.path.as_ref().ok_or("neither XDG_CONFIG_HOME nor HOME is set")?;
        let failed = |e: std::io::Error| format!("cannot write the settings file {}: {e}", path.display());
        if let Some(dir) = path.parent() {
            create_private_dir(dir).map_err(failed)?;
        }
        let text = serde_json::to_string_pretty(&self.values).map_err(|e| e.to_string())?;
        write_private(path, format!("{text}\n").as_bytes()).map_err(failed)
    }

    /// Every key that is set, in [`SettingKey::ALL`] order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (SettingKey, &str)> {
        SettingKey::ALL.into_iter().filter_map(|key| self.get(key).map(|value| (key, value)))
    }

    /// Fails when the group or others may read the file: it holds a token.
    #[cfg(unix)]
    pub(crate) fn check_private(&self) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt as _;
        let Some(path) = &self.path else { return Ok(()) };
        let mode = std::fs::metadata(path).map_err(|e| e.to_string())?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "the settings file {} holds an access token but others may read it (mode {mode:03o}); \
                 run `chmod 600 {}` (and consider replacing the token)",
                path.display(),
                path.display()
            ));
        }
        Ok(())
    }

    /// Fails when others may read the file (never, off unix).
    #[cfg(not(unix))]
    pub(crate) fn check_private(&self) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Writes `bytes` to a new file beside `path`, mode 0600 from the start, and
/// renames it over `path`: the token is never readable by others, not even
/// for a moment, and a crash leaves the old file or the new one.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let temporary = path.with_extension("json.new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    #[cfg(unix)]
    {
        // An older file of that name keeps its mode through `open`.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// Where the token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// `--token-file`.
    File(PathBuf),
    /// `LD_ACCESS_TOKEN` or `LD_API_KEY`.
    Environment(String),
    /// The settings file's `access-token`.
    SettingsFile(String),
}

/// What a client command runs with, after flags, environment and file.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) base_url: BaseUrl,
    pub(crate) token: Option<TokenSource>,
    pub(crate) api_version: Option<String>,
    pub(crate) ca_certs: Vec<PathBuf>,
    pub(crate) output: OutputFormat,
    pub(crate) project: Option<String>,
    pub(crate) environment: Option<String>,
}

impl Settings {
    /// Resolves every setting: flag > environment > settings file > default.
    pub(crate) fn resolve(
        options: &ClientOptions,
        scope: &Scope,
        env: Env<'_>,
        file: &SettingsFile,
    ) -> Result<Settings, String> {
        let base_url = if options.federal {
            BaseUrl::Federal
        } else if options.eu {
            BaseUrl::Eu
        } else {
            match options.base_url.clone().or_else(|| env("LD_BASE_URI")) {
                Some(url) => BaseUrl::Custom(url),
                None => file
                    .get(SettingKey::BaseUri)
                    .map_or(BaseUrl::Commercial, |u| BaseUrl::Custom(u.to_owned())),
            }
        };
        let token = match &options.token_file {
            Some(path) => Some(TokenSource::File(path.clone())),
            None => {
                TOKEN_VARS.iter().find_map(|name| env(name)).map(TokenSource::Environment).or_else(|| {
                    file.get(SettingKey::AccessToken).map(|token| TokenSource::SettingsFile(token.to_owned()))
                })
            }
        };
        let output = match options.output.output {
            Some(format) => format,
            None => match env("LD_OUTPUT").or_else(|| file.get(SettingKey::Output).map(str::to_owned)) {
                Some(text) => parse_output(&text)?,
                None => default_output(),
            },
        };
        let mut ca_certs = options.ca_cert.clone();
        if let Some(path) = file.get(SettingKey::CaCert) {
            ca_certs.push(PathBuf::from(path));
        }
        let pick = |flag: &Option<String>, var: &str, key: SettingKey| {
            flag.clone().or_else(|| env(var)).or_else(|| file.get(key).map(str::to_owned))
        };
        Ok(Settings {
            base_url,
            token,
            api_version: options.api_version.clone(),
            ca_certs,
            output,
            project: pick(&scope.project, "LD_PROJECT", SettingKey::Project),
            environment: pick(&scope.environment, "LD_ENVIRONMENT", SettingKey::Environment),
        })
    }
}

/// `json` or `table`, from the environment or the file.
pub(crate) fn parse_output(text: &str) -> Result<OutputFormat, String> {
    match text.trim() {
        "json" => Ok(OutputFormat::Json),
        // ldcli calls its table `plaintext`.
        "table" | "plaintext" => Ok(OutputFormat::Table),
        other => Err(format!(
            "the output format is json or table, not {other:?} (from LD_OUTPUT or the settings file)"
        )),
    }
}

/// A table for a person at a terminal, JSON for a program reading a pipe.
fn default_output() -> OutputFormat {
    if std::io::stdout().is_terminal() { OutputFormat::Table } else { OutputFormat::Json }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    }

    fn file_with(pairs: &[(SettingKey, &str)]) -> SettingsFile {
        let mut file = SettingsFile::default();
        for (key, value) in pairs {
            file.set(*key, Some((*value).to_owned()));
        }
        file
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_file() {
        let file = file_with(&[
            (SettingKey::BaseUri, "http://file"),
            (SettingKey::Project, "file-project"),
            (SettingKey::Environment, "file-env"),
            (SettingKey::AccessToken, "file-token"),
            (SettingKey::Output, "table"),
        ]);
        let env = env_of(&[
            ("LD_BASE_URI", "http://env"),
            ("LD_PROJECT", "env-project"),
            ("LD_API_KEY", "env-token"),
        ]);
        let options = ClientOptions::default();
        let scope = Scope { project: Some("flag-project".into()), environment: None };
        let settings = Settings::resolve(&options, &scope, &env, &file).unwrap();
        assert_eq!(settings.base_url, BaseUrl::Custom("http://env".into()));
        assert_eq!(settings.project.as_deref(), Some("flag-project"));
        assert_eq!(settings.environment.as_deref(), Some("file-env"));
        assert_eq!(settings.token, Some(TokenSource::Environment("env-token".into())));
        assert_eq!(settings.output, OutputFormat::Table);

        let options = ClientOptions { base_url: Some("http://flag".into()), ..ClientOptions::default() };
        let settings = Settings::resolve(&options, &Scope::default(), &env_of(&[]), &file).unwrap();
        assert_eq!(settings.base_url, BaseUrl::Custom("http://flag".into()));
        assert_eq!(settings.project.as_deref(), Some("file-project"));
        assert_eq!(settings.token, Some(TokenSource::SettingsFile("file-token".into())));
    }

    #[test]
    fn the_access_token_variable_comes_before_the_api_key() {
        let env = env_of(&[("LD_API_KEY", "b"), ("LD_ACCESS_TOKEN", "a")]);
        let settings =
            Settings::resolve(&ClientOptions::default(), &Scope::default(), &env, &SettingsFile::default())
                .unwrap();
        assert_eq!(settings.token, Some(TokenSource::Environment("a".into())));
    }

    #[test]
    fn the_file_lives_in_the_xdg_config_directory() {
        let path = file_path(&env_of(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])).unwrap();
        assert_eq!(path, Path::new("/x/iteration/config.json"));
        let path = file_path(&env_of(&[("HOME", "/h")])).unwrap();
        assert_eq!(path, Path::new("/h/.config/iteration/config.json"));
        // A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
        let path = file_path(&env_of(&[("XDG_CONFIG_HOME", "rel"), ("HOME", "/h")])).unwrap();
        assert_eq!(path, Path::new("/h/.config/iteration/config.json"));
    }

    #[test]
    fn a_bad_output_format_in_the_environment_is_named() {
        let error = Settings::resolve(
            &ClientOptions::default(),
            &Scope::default(),
            &env_of(&[("LD_OUTPUT", "yaml")]),
            &SettingsFile::default(),
        )
        .unwrap_err();
        assert!(error.contains("not \"yaml\""), "{error}");
    }
}
