#include "federation/gateway_fixture.h"

#include <chrono>

#include "ledger/ledger.h"
#include "scheduler/job_store.h"

namespace rfarm::federation::gateway_testing {

namespace {
// A job waiting in studio's job store: what its quotes count as queued (quote_capacity.h).
scheduler::JobPlan waiting_job(std::uint64_t device_seconds, const std::string& price_key) {
  scheduler::JobPlan p;
  p.request.scene = "/nonexistent/waiting.gltf";
  p.request.frames = "1-4";
  p.request.job_name = "waiting";
  p.frames = {1, 2, 3, 4};
  p.chunks = {{0, {1, 2, 3, 4}, "1-4"}};
  p.quote.render_device_seconds = device_seconds;
  p.quote.gpu = price_key != "cpu_core_hour";
  p.quote.price_key = price_key;
  return p;
}
}  // namespace

Pki::Pki(const std::filesystem::path& d) {
  using rfarm::testing::issue_test_cert;
  using rfarm::testing::make_test_ca;
  studio_ca = make_test_ca(d, "studio");
  uni_ca = make_test_ca(d, "uni");
  lab_ca = make_test_ca(d, "lab");
  rogue_ca = make_test_ca(d, "rogue");
  studio = issue_test_cert(d, studio_ca, "studio", "studio-tls");
  uni = issue_test_cert(d, uni_ca, "uni", "uni-tls");
  lab = issue_test_cert(d, lab_ca, "lab", "lab-tls");
  rogue_uni = issue_test_cert(d, rogue_ca, "uni", "rogue-uni-tls");
  lab_as_uni = issue_test_cert(d, lab_ca, "uni", "lab-as-uni-tls");
}

config::PeerConfig peer(const std::string& name, const std::string& url, const PublicKey& key,
                        const std::filesystem::path& ca, bool may_send) {
  config::PeerConfig p;
  p.name = name;
  p.url = url;
  p.public_key = key;
  p.ca_file = ca;
  p.credit_limit = Amount(500'000'000);
  p.may_send = may_send;
  p.may_receive = true;
  p.account = "peer-" + name;
  return p;
}

config::Config caller_config(const std::string& name, const CertFiles& tls, const Pki& pki, int port) {
  config::Config c = config::default_config();
  c.cluster.name = name;
  c.federation.enabled = true;
  c.federation.name = name;
  c.federation.tls_certificate = tls.cert;
  c.federation.tls_key = tls.key;
  c.federation.peers = {peer("studio", "https://127.0.0.1:" + std::to_string(port), studio_key().public_key(),
                             pki.studio_ca.cert, true)};
  return c;
}

GatewayFixture::GatewayFixture() {
  config::Config c = config::default_config();
  c.cluster.name = "studio";
  c.federation.enabled = true;
  c.federation.name = "studio";
  c.federation.tls_certificate = pki.studio.cert;
  c.federation.tls_key = pki.studio.key;
  c.federation.peers = {peer("uni", "https://127.0.0.1:1", uni_key().public_key(), pki.uni_ca.cert, true),
                        peer("lab", "https://127.0.0.1:1", lab_key().public_key(), pki.lab_ca.cert, false)};
  c.prices.gpu_hour = {{"h100", Amount(2'500'000)}};
  c.prices.cpu_core_hour = Amount(40'000);
  // Its capacity (what quotes state), and a queue: 100 CPU device-seconds and 30 on h100 waiting.
  c.federation.capacity.speed_micros = 2'500'000;
  c.federation.capacity.slots = 6;
  c.federation.capacity.gpu_slots = {{"h100", 3}};
  c.state_dir = dir.path() / "studio-state";
  {
    scheduler::JobStore store(c.state_dir);
    store.create(waiting_job(100, "cpu_core_hour"), "local");
    store.create(waiting_job(30, "gpu_hour.h100"), "local");
  }

  // The studio's ledger: an account for uni with one deposit, so a statement has a provable line.
  namespace L = rfarm::ledger;
  L::InitOptions o;
  o.cluster = "studio";
  L::Ledger l = L::Ledger::init(L::open_sqlite_storage(":memory:", {.durable = false, .create = true}), o, studio_key());
  first_head_size = l.head()->size;
  const Id128 uni_account{7, 1};
  l.create_accounts(std::vector<L::NewAccount>{{uni_account, "peer-uni", L::AccountKind::user, "uni", 0}});
  const L::TransferRequest deposit = L::single(Id128{7, 2}, l.issuer(), uni_account, Amount(3'000'000), L::TransferCode::deposit);
  if (l.submit_one(deposit) != L::TransferResult::ok) throw std::runtime_error("test deposit refused");
  deposit_event = l.find_transfer(Id128{7, 2})->event;

  GatewayOptions opts;
  opts.log = [this](std::string_view line) {
    std::lock_guard lock(log_mutex_);
    log_.emplace_back(line);
  };
  gateway_ = std::make_unique<Gateway>(c, std::move(l), studio_key(), opts);
  port = gateway_->bind("127.0.0.1", 0);
  thread_ = std::thread([this] { gateway_->run(); });
}

GatewayFixture::~GatewayFixture() {
  gateway_->stop();
  thread_.join();
}

PeerClient GatewayFixture::client(const std::string& as, const CertFiles& tls, const SigningKey& key) const {
  const config::Config c = caller_config(as, tls, pki, port);
  return PeerClient(c, c.federation.peers.front(), key);
}

std::vector<std::string> GatewayFixture::log_lines() const {
  std::lock_guard lock(log_mutex_);
  return log_;
}

}  // namespace rfarm::federation::gateway_testing
