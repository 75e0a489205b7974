//! Stand-ins for a build without the `ner` feature (no libtorch): loading or training a model
//! says so, so a config that asks for NER fails before any data moves.

use std::path::Path;

use super::{Entity, LabelMap, ModelInfo, Precision, Tag, TrainOptions, TrainProgress};
use crate::NlpError;

pub enum NerModel {}

impl NerModel {
    pub fn load(_dir: &Path, _labels: &LabelMap, _batch_size: usize) -> Result<Self, NlpError> {
        Err(NlpError::NerNotBuilt)
    }
    pub fn set_workers(&mut self, _workers: usize) -> Result<(), NlpError> {
        match *self {}
    }
    pub fn set_precision(&mut self, _precision: Precision) -> Result<(), NlpError> {
        match *self {}
    }
    pub fn precision(&self) -> Precision {
        match *self {}
    }
    pub fn info(&self) -> &ModelInfo {
        match *self {}
    }
    pub fn entities<S: AsRef<str>>(&mut self, _texts: &[S]) -> Result<Vec<Vec<Entity>>, NlpError> {
        match *self {}
    }
    pub fn tag_words<S: AsRef<str>>(
        &mut self,
        _s: &[Vec<S>],
    ) -> Result<Vec<Vec<(Tag, f32)>>, NlpError> {
        match *self {}
    }
}

pub fn train(
    _opts: &TrainOptions,
    _labels: &LabelMap,
    _progress: impl FnMut(TrainProgress),
) -> Result<ModelInfo, NlpError> {
    Err(NlpError::NerNotBuilt)
}
