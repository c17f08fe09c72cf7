#include "support/test_pki.h"

#include <gtest/gtest.h>

#include "support/process.h"

namespace rfarm::testing {

namespace {

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  const RunResult r = run(argv);
  ASSERT_EQ(r.exit_code, 0) << "openssl " << args.front() << " failed: " << r.err;
}

}  // namespace

CertFiles make_test_ca(const std::filesystem::path& dir, const std::string& name) {
  CertFiles ca{dir / (name + "-ca.pem"), dir / (name + "-ca.key")};
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
           ca.key.string(), "-out", ca.cert.string(), "-days", "2", "-subj", "/CN=" + name});
  return ca;
}

CertFiles issue_test_cert(const std::filesystem::path& dir, const CertFiles& ca, const std::string& cn,
                          const std::string& file, const std::string& sans) {
  CertFiles leaf{dir / (file + ".pem"), dir / (file + ".key")};
  const auto csr = dir / (file + ".csr");
  const auto ext = write_file(dir / (file + ".ext"),
                              "basicConstraints=CA:FALSE\n"
                              "keyUsage=digitalSignature,keyEncipherment\n"
                              "extendedKeyUsage=serverAuth,clientAuth\n"
                              "subjectAltName=" + sans + "\n");
  openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", leaf.key.string(),
           "-out", csr.string(), "-subj", "/CN=" + cn});
  openssl({"x509", "-req", "-in", csr.string(), "-CA", ca.cert.string(), "-CAkey", ca.key.string(), "-CAcreateserial",
           "-out", leaf.cert.string(), "-days", "2", "-extfile", ext.string()});
  return leaf;
}

}  // namespace rfarm::testing
