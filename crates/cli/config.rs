//! `iteration config set|get|list|unset|path`: the settings file.

use std::io::{IsTerminal as _, Read as _};

use crate::args::{ConfigCommand, OutputFormat, SettingKey};
use crate::commands::{Done, Failure};
use crate::exit;
use crate::settings::{self, Env, SettingsFile};

/// Runs a `config` command.
pub(crate) fn run(command: ConfigCommand, env: Env<'_>) -> Result<Done, Failure> {
    let mut file = SettingsFile::load(env).map_err(Failure::Usage)?;
    let path = || {
        file.path.clone().ok_or_else(|| Failure::Usage("neither XDG_CONFIG_HOME nor HOME is set".to_owned()))
    };
    match command {
        ConfigCommand::Path => Ok(Done { text: path()?.display().to_string(), code: exit::OK }),
        ConfigCommand::Get { key } => {
            if key == SettingKey::AccessToken {
                file.check_private().map_err(Failure::Usage)?;
            }
            match file.get(key) {
                Some(value) => Ok(Done { text: value.to_owned(), code: exit::OK }),
                None => Err(Failure::Usage(format!("{} is not set in {}", key.name(), path()?.display()))),
            }
        }
        ConfigCommand::List { output } => {
            let format = match output.output {
                Some(format) => format,
                None if std::io::stdout().is_terminal() => OutputFormat::Table,
                None => OutputFormat::Json,
            };
            let entries: Vec<(SettingKey, String)> =
                file.entries().map(|(key, value)| (key, shown(key, value))).collect();
            let text = match format {
                OutputFormat::Json => {
                    let object: serde_json::Map<String, serde_json::Value> = entries
                        .into_iter()
                        .map(|(key, value)| (key.name().to_owned(), value.into()))
                        .collect();
                    serde_json::to_string_pretty(&object).unwrap_or_default()
                }
                OutputFormat::Table => {
                    let lines: Vec<String> = entries
                        .into_iter()
                        .map(|(key, value)| format!("{:<13} {value}", key.name()))
                        .collect();
                    lines.join("\n")
                }
            };
            Ok(Done { text, code: exit::OK })
        }
        ConfigCommand::Set { key, value } => {
            let value = match (key, value) {
                (SettingKey::AccessToken, Some(_)) => {
                    return Err(Failure::Usage(
                        "the token is never taken as an argument (it would show in the process list and \
                         the shell history): pipe it in, as in `printf '%s' \"$TOKEN\" | iteration config set \
                         access-token`"
                            .to_owned(),
                    ));
                }
                (SettingKey::AccessToken, None) => read_token()?,
                (_, None) => {
                    return Err(Failure::Usage(format!("`config set {}` needs a VALUE", key.name())));
                }
                (SettingKey::Output, Some(value)) => {
                    settings::parse_output(&value).map_err(Failure::Usage)?;
                    value
                }
                (_, Some(value)) => value,
            };
            file.set(key, Some(value));
            file.save().map_err(Failure::Usage)?;
            Ok(Done { text: String::new(), code: exit::OK })
        }
        ConfigCommand::Unset { key } => {
            file.set(key, None);
            file.save().map_err(Failure::Usage)?;
            Ok(Done { text: String::new(), code: exit::OK })
        }
    }
}

/// The token as `config list` shows it: enough to tell two apart, no more.
fn shown(key: SettingKey, value: &str) -> String {
    if key != SettingKey::AccessToken {
        return value.to_owned();
    }
    let tail: String = value.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    if value.chars().count() > 8 { format!("****{tail}") } else { "****".to_owned() }
}

/// The token from standard input: its first line, trimmed.
fn read_token() -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        eprintln!("paste the access token, then press Enter and Ctrl-D:");
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::Usage(format!("cannot read the token from standard input: {e}")))?;
    let token = text.lines().next().unwrap_or("").trim().to_owned();
    if token.is_empty() {
        return Err(Failure::Usage("no token on standard input".to_owned()));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_masked_in_lists() {
        assert_eq!(shown(SettingKey::AccessToken, "api-demo-writer"), "****iter");
        assert_eq!(shown(SettingKey::AccessToken, "short"), "****");
        assert_eq!(shown(SettingKey::Project, "my-project"), "my-project");
    }
}
