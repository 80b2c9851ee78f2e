// A struct with a field the serializer cannot encode: one error naming the struct, the field's
// index and its type, and why the field's type is not an aggregate.
// expect: Struct = Node; [a-z ]*Index = 1; Field = Opaque|field_without_encoding<Node, 1UL?, Opaque>
// expect: field Index of Struct has the type Field, a class that is not an aggregate: it has a user-declared constructor
#include <string>

#include <kvstack/kvstack.hpp>

struct Opaque {
#ifdef KVSTACK_COMPILE_FAIL
  Opaque() = default;  // a user-declared constructor: not an aggregate
#endif
  int handle = 0;
};
struct Node {
  std::string name;
  Opaque handle;
  int port = 0;
};

int main() {
  kvstack::MemoryBackend db;
  kvstack::NamespacedRegistry<kvstack::MemoryBackend, Node> nodes{db, "node"};
  nodes.put("a", Node{}).value();
  return nodes.get("a").value() ? 0 : 1;
}
