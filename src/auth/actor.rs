/// The party behind a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Actor {
    /// No credentials were presented.
    #[default]
    Anonymous,
}
