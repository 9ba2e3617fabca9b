//! atlantis.yaml reader (placeholder until the reader lands).
use std::path::{Path, PathBuf};
use crate::{Position, Result};
#[derive(Debug)]
pub struct AtlantisConfig { pub path: PathBuf, pub projects: Vec<AtlantisProject> }
#[derive(Debug)]
pub struct AtlantisProject { pub name: Option<String>, pub dir: String, pub workspace: String, pub position: Position }
impl AtlantisProject { pub fn display_name(&self) -> String { self.name.clone().unwrap_or_else(|| self.dir.clone()) } }
impl AtlantisConfig {
    pub fn find_by_name(&self, name: &str) -> Option<&AtlantisProject> { self.projects.iter().find(|p| p.name.as_deref() == Some(name)) }
    pub fn find_by_dir_workspace(&self, dir: &str, workspace: &str) -> Vec<&AtlantisProject> { self.projects.iter().filter(|p| p.dir == dir && p.workspace == workspace).collect() }
}
pub fn load(path: &Path) -> Result<AtlantisConfig> { Err(crate::Error::input(path, "not yet")) }
pub fn discover(_start: &Path) -> Option<PathBuf> { None }
