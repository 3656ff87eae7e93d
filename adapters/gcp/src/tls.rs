//! The TLS crypto backend of the Pub/Sub client.

/// Installs rustls' `ring` provider as the process default unless the
/// application installed one already. nubes builds reqwest and the Pub/Sub
/// client without a bundled provider so the default build needs neither
/// aws-lc nor a C toolchain.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another installer is fine: a provider is set.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
