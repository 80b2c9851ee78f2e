// kvstack-server: a Redis-protocol server over redis::DataStore on any kvstack engine, alone or
// as a member of a Raft cluster (`kvstack-server --help` lists the options).
//
// KV_BACKEND / KV_PATH / KV_PARAMS give the engine when the flags do not. `--port 0` picks a
// free port; the server prints what it runs (engine, path, sync mode, cluster) on stderr, and
// "ready <port>" on stdout once it accepts connections. SIGINT,
// SIGTERM and SHUTDOWN stop it cleanly: commands in flight finish, the engine is closed (nothing
// that was acknowledged is lost on a durable engine).
#include <csignal>
#include <iostream>

#include <kvstack/backend/config.hpp>
#include <kvstack/redis/redis.hpp>
#include <kvstack/server/server.hpp>

namespace kv = kvstack;
namespace redis = kvstack::redis;

namespace {

int fail(const std::string& why) {
  std::cerr << "kvstack-server: " << why << "\n";
  return 1;
}

template <class Store, class Node>
int serve(Store& store, Node& node, const redis::ServerOptions& options, const std::string& line) {
  auto server = redis::Server<Store, Node>::open(store, node, options);
  if (!server) return fail(server.error().message());
  std::signal(SIGPIPE, SIG_IGN);
  server.value()->stop_on_signals();
  server.value()->start();
  std::cerr << "kvstack-server: " << line << ", port " << server.value()->port() << std::endl;
  std::cout << "ready " << server.value()->port() << std::endl;
  server.value()->join();
  return 0;  // the store closes as it goes out of scope: a durable engine has every acknowledged write
}

std::string describe(const redis::ServerOptions& o) {
  const auto& c = o.engine;
  std::string s = "engine " + (c.backend.empty() ? std::string("default") : c.backend);
  if (!c.path.empty()) s += ", path " + c.path.string();
  auto sync = c.params.find("sync");
  s += ", sync " + (sync == c.params.end() ? std::string("engine default") : sync->second);
  if (sync != c.params.end() && sync->second == "false" && !o.cluster.node_id)
    s += o.fsync_every.count() ? ", synced every " + std::to_string(o.fsync_every.count()) + " ms" : ", never synced";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = redis::parse_server_options(argc, argv);
  if (!options) {
    std::cerr << "kvstack-server: " << options.error().message() << "\n" << redis::server_usage;
    return 2;
  }
  if (options.value().help) {
    std::cout << redis::server_usage;
    return 0;
  }
  const auto& o = options.value();
  if (o.cluster.node_id) {
    auto node = redis::RaftNode::open(o);
    if (!node) return fail(node.error().message());
    return serve(node.value()->store(), *node.value(), o, describe(o) + ", " + node.value()->describe());
  }
  auto engine = kv::open(o.engine);
  if (!engine) return fail(engine.error().message());
  auto store = redis::DataStore<kv::AnyBackend>::open(std::move(engine).value(), {.databases = o.databases});
  if (!store) return fail(store.error().message());
  redis::Standalone node;
  return serve(store.value(), node, o, describe(o) + ", standalone");
}
