//! Types, validation and resolution for LaunchDarkly's Experiments API.
