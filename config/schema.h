#pragma once
// Every key path rfarm.yaml accepts, for documentation and for the test that the example file
// (config/rfarm.example.yaml) shows every one of them.
#include <string>
#include <vector>

namespace rfarm::config {

// Paths like "cluster.name", "accounts[].unix_users", "prices.gpu_hour.<gpu model>": "[]" stands
// for any element of a list, "<...>" for a key the user names. Leaves only (no bare "cluster").
std::vector<std::string> config_key_paths();

}  // namespace rfarm::config
