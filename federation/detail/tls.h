#pragma once
// OpenSSL pieces the gateway needs that cpp-httplib does not give: trust stores built from PEM
// files (with errors naming the file and the config key), a certificate's CN, and a chain check
// of a peer's certificate against that peer's own trust store.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace rfarm::federation::detail {

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

struct PemFile {
  std::filesystem::path path;
  std::string field;  // the config key that named it, for errors ("federation.peers[uni].ca_file")
};

// A store trusting every certificate in every file (a CA's, or a peer's self-signed one).
// Error(BadInput) naming the field when a file is missing, unreadable or holds no certificate.
StorePtr make_store(const std::vector<PemFile>& files);

// The subject's commonName, "" when it has none.
std::string common_name(X509* cert);

// Whether `leaf` (with the untrusted intermediates `chain`, may be null) chains to a certificate
// in `store`, checking validity dates and signatures (X509_verify_cert). *why: OpenSSL's reason.
bool chains_to(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store, std::string* why);

// Sets up a server context: the certificate chain and key (Error(BadInput) naming the file and
// field when they do not load or do not match), TLS 1.2 at least, and required client certificates
// verified against `client_store` (taking ownership of it).
void setup_server_context(SSL_CTX& ctx, const std::filesystem::path& cert, const std::filesystem::path& key,
                          StorePtr client_store);

}  // namespace rfarm::federation::detail
