//! A transaction that prepares each statement once per connection. Every statement sent
//! as text costs two round trips (prepare, then run); writes are serialised under the
//! hub's write lock, so those round trips are the hub's intake rate. Prepared statements
//! belong to the connection, not the transaction: a rolled-back transaction keeps them.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio_postgres::types::ToSql;
use tokio_postgres::{Error, Row, Statement, Transaction};

/// The statements one connection has prepared, by their text.
pub(super) type Prepared = Mutex<HashMap<String, Statement>>;

pub(super) struct Tx<'a> {
    tx: Transaction<'a>,
    prepared: &'a Prepared,
}

impl<'a> Tx<'a> {
    pub(super) fn new(tx: Transaction<'a>, prepared: &'a Prepared) -> Tx<'a> {
        Tx { tx, prepared }
    }

    async fn statement(&self, sql: &str) -> Result<Statement, Error> {
        if let Some(s) = self.prepared.lock().ok().and_then(|p| p.get(sql).cloned()) {
            return Ok(s);
        }
        let statement = self.tx.prepare(sql).await?;
        if let Ok(mut p) = self.prepared.lock() {
            p.insert(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    pub(super) async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let statement = self.statement(sql).await?;
        self.tx.query(&statement, params).await
    }

    pub(super) async fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, Error> {
        let statement = self.statement(sql).await?;
        self.tx.query_one(&statement, params).await
    }

    pub(super) async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let statement = self.statement(sql).await?;
        self.tx.query_opt(&statement, params).await
    }

    pub(super) async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let statement = self.statement(sql).await?;
        self.tx.execute(&statement, params).await
    }

    pub(super) async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await
    }
}
