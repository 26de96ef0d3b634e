//! The field taxonomy: ECS and Sigma names beside each reader's own, and the Sigma log
//! source of every event, read from the data files in `data/`.
