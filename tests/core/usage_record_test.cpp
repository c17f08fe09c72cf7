#include "core/usage_record.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rfarm {
namespace {

SigningKey test_key(std::uint8_t fill) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(fill);
  return SigningKey::from_seed(seed);
}

UsageRecord sample() {
  UsageRecord r;
  r.cluster = "alpha";
  r.node = "node01";
  r.job_id = 4242;
  r.step_id = kBatchStepId;
  r.array_job_id = 4240;
  r.array_task_id = 2;
  r.uid = 1000;
  r.account = "studio-a";
  r.rfarm_job = "j-0001";
  r.cpus = 4;
  r.gpus = 2;
  r.gpu_model = "h100";
  r.start_ms = 1764000000000;
  r.end_ms = 1764000123456;
  r.exit_status = 0;
  r.batch_job = true;
  return r;
}

std::string error_of(std::string_view line) {
  try {
    decode_usage_line(line);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
    return e.what();
  }
  return "";
}

TEST(UsageRecord, RoundTripsAndNamesItsKey) {
  const SigningKey key = test_key(7);
  const std::string line = encode_usage_line(sample(), key);
  DecodedUsageLine d = decode_usage_line(line);
  EXPECT_EQ(d.record, sample());
  EXPECT_EQ(d.node_key, key.public_key());
  EXPECT_EQ(d.record.key(), "alpha/4242/4294967291/node01");
  EXPECT_EQ(d.record.duration_ms(), 123456u);
}

TEST(UsageRecord, OnlyTheAllocationIsBillable) {
  UsageRecord r = sample();  // the batch step of an sbatch job
  EXPECT_TRUE(r.billable());
  r.step_id = 0;  // an srun step inside it
  EXPECT_FALSE(r.billable());
  r.batch_job = false;  // a step of a plain srun/salloc job
  EXPECT_TRUE(r.billable());
  r.step_id = kExternStepId;
  EXPECT_FALSE(r.billable());
}

TEST(UsageRecord, AnyChangedValueIsRefused) {
  const std::string line = encode_usage_line(sample(), test_key(7));
  std::string more_gpus = line;
  more_gpus.replace(more_gpus.find("\"gpus\":2"), 8, "\"gpus\":8");
  EXPECT_NE(error_of(more_gpus).find("signature does not match"), std::string::npos);

  std::string other_account = line;
  other_account.replace(other_account.find("studio-a"), 8, "studio-b");
  EXPECT_NE(error_of(other_account).find("signature"), std::string::npos);
}

TEST(UsageRecord, EveryFlippedByteIsRefused) {
  const std::string line = encode_usage_line(sample(), test_key(9));
  for (std::size_t i = 0; i < line.size(); ++i) {
    std::string bad = line;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_NE(error_of(bad), "") << "byte " << i << " flipped was accepted: " << bad;
  }
}

TEST(UsageRecord, ASignatureFromAnotherKeyUnderThisKeyNameIsRefused) {
  // A forger re-signs with its own key but claims the real node's key.
  const std::string honest = encode_usage_line(sample(), test_key(1));
  std::string forged = encode_usage_line(sample(), test_key(2));
  const std::string real_key = test_key(1).public_key().hex();
  const std::string forger_key = test_key(2).public_key().hex();
  forged.replace(forged.find(forger_key), forger_key.size(), real_key);
  EXPECT_NE(error_of(forged).find("signature"), std::string::npos);
  EXPECT_EQ(error_of(honest), "");
}

TEST(UsageRecord, MalformedLinesGiveReasons) {
  EXPECT_NE(error_of("").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of("[1,2]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMaxUsageRecordBytes + 1, ' ')).find("limit"), std::string::npos);
  const std::string line = encode_usage_line(sample(), test_key(3));
  EXPECT_NE(error_of(line + " ").find("canonical"), std::string::npos);
  std::string v2 = line;
  v2.replace(v2.find("\"v\":1"), 5, "\"v\":2");
  EXPECT_NE(error_of(v2).find("version 2"), std::string::npos);
}

}  // namespace
}  // namespace rfarm
