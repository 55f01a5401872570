//! A plain `redis://` URL to a host that is not loopback logs one warning per process,
//! without the URL's password. Its own test binary: the "once" is per process.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use auth_store_redis::RedisStore;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[test]
fn plain_redis_to_another_host_warns_once_without_the_password() {
    let logs = Buffer::default();
    let subscriber = tracing_subscriber::fmt().with_writer(logs.clone()).finish();
    tracing::subscriber::with_default(subscriber, || {
        // Loopback, a Unix socket and TLS: nothing crosses the network in clear.
        for url in [
            "redis://127.0.0.1:6379/",
            "redis://localhost:6379/",
            "redis://[::1]:6379/",
            "redis+unix:///run/redis.sock",
            "rediss://:hunter2@redis.internal:6380/",
        ] {
            RedisStore::builder(url).build().unwrap();
        }
        assert_eq!(logs.text(), "", "no warning for loopback or TLS");

        RedisStore::builder("redis://:hunter2@redis.internal:6379/")
            .build()
            .unwrap();
        RedisStore::builder("redis://10.0.0.7:6379/")
            .build()
            .unwrap();
    });
    let text = logs.text();
    assert_eq!(text.matches("WARN").count(), 1, "one warning: {text}");
    assert!(text.contains("in clear"), "{text}");
    assert!(text.contains("redis.internal"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
