//! Reading published weights into a [`StateDict`]: PyTorch `.pth` files
//! (torch's zip format and the legacy one) through a restricted pickle
//! machine ([`pth`]), Hugging Face `.safetensors` files ([`safetensors`]),
//! and the layout check every network builder runs first ([`layout`]).

pub mod layout;
pub mod pth;
pub mod safetensors;
pub mod state_dict;

pub use state_dict::{StateDict, TensorF32};
