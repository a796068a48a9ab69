//! Reading published weights into a [`StateDict`]: PyTorch `.pth` files
//! (torch's zip format and the legacy one) through a restricted pickle
//! machine ([`pth`]).

pub mod pth;
pub mod state_dict;

pub use state_dict::{StateDict, TensorF32};
