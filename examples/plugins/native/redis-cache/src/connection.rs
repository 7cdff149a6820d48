//! The plugin's connection settings and a node's reusable connection.

use std::sync::Mutex;
use std::time::Duration;

use pocket_native_sdk::{Error, Value};
use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};

/// Where and how to connect, read from the plugin config.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    host: String,
    port: u16,
    password: Option<String>,
    database: i64,
    timeout: Duration,
}

impl Settings {
    /// Reads `host`, `port`, `password`, `database` and `timeout_ms`.
    pub fn from_config(config: &Value) -> Result<Settings, Error> {
        let host = match config.get("host") {
            None | Some(Value::Null) => "127.0.0.1".to_string(),
            Some(Value::String(s)) if !s.is_empty() => s.to_string(),
            Some(other) => {
                return Err(Error::invalid_config(format!(
                    "`host` must be a host name, not {other}"
                )));
            }
        };
        let port = integer(config, "port", 6379)?;
        let port = u16::try_from(port).map_err(|_| Error::invalid_config(format!("`port` {port} is out of range")))?;
        let password = config
            .get("password")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        let timeout_ms = integer(config, "timeout_ms", 5000)?;
        let timeout_ms =
            u64::try_from(timeout_ms).map_err(|_| Error::invalid_config("`timeout_ms` must not be negative"))?;
        Ok(Settings {
            host,
            port,
            password,
            database: integer(config, "database", 0)?,
            timeout: Duration::from_millis(timeout_ms.max(1)),
        })
    }

    fn open(&self) -> Result<redis::Connection, Error> {
        let mut redis_settings = RedisConnectionInfo::default().set_db(self.database);
        if let Some(password) = &self.password {
            redis_settings = redis_settings.set_password(password);
        }
        let info = ConnectionAddr::Tcp(self.host.clone(), self.port)
            .into_connection_info()
            .map_err(|e| self.failure(&e))?
            .set_redis_settings(redis_settings);
        let client = redis::Client::open(info).map_err(|e| self.failure(&e))?;
        let connection = client
            .get_connection_with_timeout(self.timeout)
            .map_err(|e| self.failure(&e))?;
        connection
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| connection.set_write_timeout(Some(self.timeout)))
            .map_err(|e| self.failure(&e))?;
        Ok(connection)
    }

    fn failure(&self, error: &redis::RedisError) -> Error {
        Error::failed(format!("redis at {}:{}: {error}", self.host, self.port))
    }
}

/// An integer config value, accepting numeric strings (from `${ENV}`).
fn integer(config: &Value, key: &str, default: i64) -> Result<i64, Error> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(default),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| Error::invalid_config(format!("`{key}` must be an integer, not \"{s}\""))),
        Some(value) => value
            .as_i64()
            .ok_or_else(|| Error::invalid_config(format!("`{key}` must be an integer, not {value}"))),
    }
}

/// One node's connection: opened on first use, kept while it works.
pub struct Pool {
    settings: Settings,
    idle: Mutex<Option<redis::Connection>>,
}

impl Pool {
    /// A pool that connects with `settings`.
    pub fn new(settings: Settings) -> Pool {
        Pool {
            settings,
            idle: Mutex::new(None),
        }
    }

    /// Runs `command` on a connection: the idle one, or a new one. A
    /// connection that failed is dropped; concurrent calls open their own.
    pub fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, Error> {
        let idle = self.idle.lock().map(|mut idle| idle.take()).unwrap_or_default();
        let mut connection = match idle {
            Some(connection) => connection,
            None => self.settings.open()?,
        };
        let result = command.query(&mut connection).map_err(|e| self.settings.failure(&e))?;
        if let Ok(mut idle) = self.idle.lock() {
            *idle = Some(connection);
        }
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_accept_numbers_as_strings_and_default_the_rest() {
        let config = Value::from_json(r#"{"port":"6380","password":"","database":2}"#).unwrap();
        let settings = Settings::from_config(&config).unwrap();
        assert_eq!(settings.host, "127.0.0.1");
        assert_eq!(settings.port, 6380);
        assert_eq!(settings.password, None);
        assert_eq!(settings.database, 2);
    }

    #[test]
    fn a_bad_port_is_a_config_error() {
        let config = Value::from_json(r#"{"port":"lots"}"#).unwrap();
        let error = Settings::from_config(&config).unwrap_err();
        assert_eq!(error.to_string(), "`port` must be an integer, not \"lots\"");
    }
}
