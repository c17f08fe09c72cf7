#pragma once
// Throwaway X.509 certificates for TLS tests, made with the `openssl` command line at test time
// (P-256 keys: fast to generate). Each certificate is valid for two days from now.
#include <filesystem>
#include <string>

namespace rfarm::testing {

struct CertFiles {
  std::filesystem::path cert;  // PEM certificate
  std::filesystem::path key;   // PEM private key (unencrypted)
};

// A self-signed CA "CN=<name>" in dir/<name>-ca.pem and dir/<name>-ca.key.
CertFiles make_test_ca(const std::filesystem::path& dir, const std::string& name);

// A leaf certificate "CN=<cn>" issued by `ca`, usable as TLS server and client, with subject
// alternative names `sans` (openssl's syntax; default IP:127.0.0.1 and DNS:localhost), in
// dir/<file>.pem and dir/<file>.key.
CertFiles issue_test_cert(const std::filesystem::path& dir, const CertFiles& ca, const std::string& cn,
                          const std::string& file, const std::string& sans = "IP:127.0.0.1,DNS:localhost");

}  // namespace rfarm::testing
