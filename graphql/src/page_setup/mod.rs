//! Pages' set-up with Meta (webhook subscription, Get Started) and their Messenger Profile
//! settings: `Page.setup`, `Page.messengerProfile`, `Page.messengerProfileSettings`,
//! `refreshPageSetup` and `setPageMessengerProfile`.

mod inputs;
mod mutation;
pub(crate) mod types;

pub(crate) use mutation::PageSetupMutation;
