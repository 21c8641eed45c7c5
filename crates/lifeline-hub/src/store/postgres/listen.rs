//! Fan-out across replicas: each replica keeps one connection that `LISTEN`s for the
//! others' changes. A notification is only a wake-up ("something changed, read from your
//! cursor"): its payload is never read, and after every (re)connection the replica is woken
//! for everything, since notifications sent while it was away are lost.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{AsyncMessage, Config, NoTls, Socket};

use super::connect::{PostgresTarget, runtime};
use super::{ADVISORIES_CHANNEL, CHANGES_CHANNEL, CLAIMS_CHANNEL};

/// What another replica (or this one) changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    Changes,
    Advisories,
    Claims,
}

impl PostgresTarget {
    /// Wake-ups from the database, for as long as the receiver is kept; the connection is
    /// opened again (every two seconds while it fails) when it breaks.
    pub fn listen(&self) -> UnboundedReceiver<Wake> {
        let (wake, woken) = unbounded_channel();
        let (config, tls, shown) = (self.config.clone(), self.tls.clone(), self.to_string());
        runtime().spawn(async move {
            while !wake.is_closed() {
                let ended = match &tls {
                    Some(tls) => listen_once(&config, tls.clone(), &wake).await,
                    None => listen_once(&config, NoTls, &wake).await,
                };
                if let Err(e) = ended {
                    tracing::warn!("listening to the database at {shown}: {e}; again in 2 s");
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        woken
    }
}

async fn listen_once<T>(
    config: &Config,
    tls: T,
    wake: &UnboundedSender<Wake>,
) -> Result<(), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (heard, mut hearing) = unbounded_channel::<String>();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            if let AsyncMessage::Notification(n) = message? {
                let _ = heard.send(n.channel().to_owned());
            }
        }
        Ok::<(), tokio_postgres::Error>(())
    });
    client
        .batch_execute(&format!(
            "LISTEN {CHANGES_CHANNEL}; LISTEN {ADVISORIES_CHANNEL}; LISTEN {CLAIMS_CHANNEL}"
        ))
        .await?;
    // Whatever happened while this replica was not listening.
    for w in [Wake::Changes, Wake::Advisories, Wake::Claims] {
        let _ = wake.send(w);
    }
    while let Some(channel) = hearing.recv().await {
        let w = match channel.as_str() {
            CHANGES_CHANNEL => Wake::Changes,
            ADVISORIES_CHANNEL => Wake::Advisories,
            _ => Wake::Claims,
        };
        if wake.send(w).is_err() {
            break;
        }
    }
    drop(client);
    match driver.await {
        Ok(result) => result,
        Err(_) => Ok(()),
    }
}
