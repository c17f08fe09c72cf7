#include "federation/detail/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/error.h"

namespace rfarm::federation::detail {

namespace {

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

StorePtr make_store(const std::vector<PemFile>& files) {
  StorePtr store(X509_STORE_new());
  if (!store) throw Error(Error::Kind::Internal, "X509_STORE_new failed");
  for (const PemFile& f : files) {
    FILE* fp = std::fopen(f.path.c_str(), "r");
    if (!fp)
      throw_input_error({f.path.string(), 0, 0}, f.field, "cannot open the PEM certificate file",
                        "check the path in rfarm.yaml and that rfarm can read it");
    int count = 0;
    while (X509* cert = PEM_read_X509(fp, nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(store.get(), cert);  // takes its own reference
      X509_free(cert);
      ++count;
    }
    ERR_clear_error();  // the read that ends the loop leaves "no start line"
    std::fclose(fp);
    if (count == 0)
      throw_input_error({f.path.string(), 0, 0}, f.field, "holds no PEM certificate",
                        "give the CA's certificate (-----BEGIN CERTIFICATE-----), or the peer's own");
  }
  return store;
}

std::string common_name(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  if (!subject) return "";
  const int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  // A CN with a NUL or a control character is not a cluster name: treat it as none.
  for (char c : cn)
    if (static_cast<unsigned char>(c) < 0x20) return "";
  return cn;
}

bool chains_to(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store, std::string* why) {
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (!ctx || X509_STORE_CTX_init(ctx, store, leaf, chain) != 1) {
    X509_STORE_CTX_free(ctx);
    *why = "cannot set up the certificate check";
    return false;
  }
  const bool ok = X509_verify_cert(ctx) == 1;
  if (!ok) *why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

void setup_server_context(SSL_CTX& ctx, const std::filesystem::path& cert, const std::filesystem::path& key,
                          StorePtr client_store) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(&ctx, cert.c_str()) != 1)
    throw_input_error({cert.string(), 0, 0}, "federation.tls_certificate", "cannot load the certificate: " + openssl_error(),
                      "give a PEM certificate (its chain may follow it in the same file)");
  if (SSL_CTX_use_PrivateKey_file(&ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    throw_input_error({key.string(), 0, 0}, "federation.tls_key", "cannot load the private key: " + openssl_error(),
                      "give the unencrypted PEM private key of federation.tls_certificate");
  if (SSL_CTX_check_private_key(&ctx) != 1)
    throw_input_error({key.string(), 0, 0}, "federation.tls_key", "does not match federation.tls_certificate",
                      "give the key the certificate was issued for");
  SSL_CTX_set_cert_store(&ctx, client_store.release());
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
}

}  // namespace rfarm::federation::detail
