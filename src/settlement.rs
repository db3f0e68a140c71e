//! Settlements: input features with a resolved id and name.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Location, Result};
use crate::io::{property_text, InputFeature};

/// Which attributes identify a settlement.
#[derive(Debug, Clone, Default)]
pub struct IdentityFields {
    /// Attribute holding the id. `None`: the GeoJSON feature `id`, else the
    /// 0-based feature index.
    pub id_field: Option<String>,
    /// Attribute holding the name (default `name`; missing or null → empty).
    pub name_field: Option<String>,
}

/// A settlement as read: its id, name and the feature itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    /// Stable identifier used in every list.
    pub id: String,
    /// Display name (may be empty).
    pub name: String,
    /// The input feature (geometry and attributes carried through).
    pub feature: InputFeature,
}

impl IdentityFields {
    /// Resolve the id and name of `feature`.
    ///
    /// # Errors
    /// The id attribute is missing, null or empty.
    pub fn identify(&self, feature: InputFeature, path: &Path) -> Result<Settlement> {
        let id = match &self.id_field {
            Some(field) => match feature.properties.get(field) {
                None => {
                    return Err(Error::invalid(
                        Location::feature(path, feature.index).with_field(field.clone()),
                        "the id attribute is missing",
                    ))
                }
                Some(v) => {
                    let text = property_text(v);
                    if text.trim().is_empty() {
                        return Err(Error::invalid(
                            Location::feature(path, feature.index).with_field(field.clone()),
                            "the id attribute is empty",
                        ));
                    }
                    text
                }
            },
            None => match &feature.feature_id {
                Some(Value::Null) | None => feature.index.to_string(),
                Some(v) => property_text(v),
            },
        };
        let name_field = self.name_field.as_deref().unwrap_or("name");
        let name = feature
            .properties
            .get(name_field)
            .map(property_text)
            .unwrap_or_default();
        Ok(Settlement { id, name, feature })
    }
}

/// Detects repeated ids: two settlements with one id would make an
/// eligibility list ambiguous.
#[derive(Debug, Default)]
pub struct DuplicateIds {
    seen: HashMap<String, usize>,
}

impl DuplicateIds {
    /// Record `s`.
    ///
    /// # Errors
    /// Its id was seen before (the message names both features).
    pub fn check(&mut self, s: &Settlement, path: &Path) -> Result<()> {
        if let Some(first) = self.seen.insert(s.id.clone(), s.feature.index) {
            return Err(Error::invalid(
                Location::feature(path, s.feature.index),
                format!(
                    "duplicate id '{}' (also feature #{first}); ids must be unique",
                    s.id
                ),
            ));
        }
        Ok(())
    }
}
