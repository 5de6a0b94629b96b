//! The symbol registry (name ↔ small integer id) as a JS class.

use crate::error::fail;
use crate::records::name;
use napi::{Env, Result};
use napi_derive::napi;

/// Interns `names` in order into `registry` (ids continue; known names keep theirs); a bad name
/// is a JS error naming it.
pub fn intern_names(env: &Env, registry: &mut tributary_core::SymbolRegistry, names: &[String]) -> Result<()> {
    for n in names {
        registry.intern(name(env, "symbol", n)?);
    }
    Ok(())
}

/// Interns symbol names as the small integer ids frames carry.
#[napi]
#[derive(Default)]
pub struct SymbolRegistry {
    pub(crate) inner: tributary_core::SymbolRegistry,
}

#[napi]
impl SymbolRegistry {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry holding `names` in order (ids 0, 1, ...).
    #[napi(factory)]
    pub fn from_names(env: Env, names: Vec<String>) -> Result<Self> {
        let mut registry = Self::default();
        intern_names(&env, &mut registry.inner, &names)?;
        Ok(registry)
    }

    /// The id of `symbol`, assigning the next one if it is new.
    #[napi]
    pub fn intern(&mut self, env: Env, symbol: String) -> Result<u32> {
        Ok(self.inner.intern(name(&env, "symbol", &symbol)?).0)
    }

    /// The id of `symbol`, or null when it is not registered.
    #[napi]
    pub fn id(&self, env: Env, symbol: String) -> Result<Option<u32>> {
        Ok(self.inner.id(&name(&env, "symbol", &symbol)?).map(|id| id.0))
    }

    /// The name of `id`; a JS error (`unknown_symbol`) when it is not registered.
    #[napi]
    pub fn name(&self, env: Env, id: u32) -> Result<String> {
        self.inner
            .name(tributary_core::SymbolId(id))
            .map(|n| n.to_string())
            .ok_or_else(|| fail(&env, "unknown_symbol", format!("no symbol has id {id}")))
    }

    /// All names in id order.
    #[napi]
    pub fn names(&self) -> Vec<String> {
        self.inner.names().iter().map(|n| n.to_string()).collect()
    }

    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.inner.len() as u32
    }
}
