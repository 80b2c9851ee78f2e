# Conan 2 recipe for kvstack (header-only). Written from Conan 2's documented API and not run
# here: the Conan client is not packaged for Debian 12. `conan create .` builds test_package/.
import os

from conan import ConanFile
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout


class KvstackConan(ConanFile):
    name = "kvstack"
    description = "Header-only C++20 key-value storage stacks composed at compile time"
    topics = ("key-value", "storage", "lmdb", "rocksdb", "sqlite", "postgresql", "redis", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"  # only for validate(); cleared in package_id()
    options = {"with_lmdb": [True, False], "with_rocksdb": [True, False], "with_sqlite": [True, False],
               "with_postgres": [True, False], "with_redis": [True, False], "with_mst": [True, False]}
    default_options = {"with_lmdb": True, "with_rocksdb": False, "with_sqlite": False,
                       "with_postgres": False, "with_redis": False, "with_mst": False}
    exports_sources = "include/*", "CHANGELOG.md"
    no_copy_source = True

    def set_version(self):  # from the header, the single source of the version
        text = load(self, os.path.join(self.recipe_folder, "include", "kvstack", "version.hpp"))
        self.version = text.split('version = "')[1].split('"')[0]

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        self.requires("boost/[>=1.81.0 <2]", transitive_headers=True)
        if self.options.with_lmdb:
            self.requires("lmdb/[>=0.9.29 <1]", transitive_headers=True, transitive_libs=True)
        if self.options.with_rocksdb:
            self.requires("rocksdb/[>=7.8.3 <10]", transitive_headers=True, transitive_libs=True)
        if self.options.with_sqlite:
            self.requires("sqlite3/[>=3.37 <4]", transitive_headers=True, transitive_libs=True)
        if self.options.with_postgres:
            self.requires("libpq/[>=14 <17]", transitive_headers=True, transitive_libs=True)
        if self.options.with_redis:
            self.requires("hiredis/[>=0.14 <2]", transitive_headers=True, transitive_libs=True)
        if self.options.with_mst:  # Mst replication hashes with libcrypto
            self.requires("openssl/[>=3 <4]", transitive_headers=True, transitive_libs=True)

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        self.info.clear()  # the same headers whatever the settings and options

    def package(self):
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "kvstack")
        self.cpp_info.set_property("cmake_target_name", "kvstack::kvstack")
        self.cpp_info.set_property("pkg_config_name", "kvstack")
        self.cpp_info.defines = [
            f"KVSTACK_WITH_LMDB={1 if self.options.with_lmdb else 0}",
            f"KVSTACK_WITH_ROCKSDB={1 if self.options.with_rocksdb else 0}",
            f"KVSTACK_WITH_SQLITE={1 if self.options.with_sqlite else 0}",
            f"KVSTACK_WITH_POSTGRES={1 if self.options.with_postgres else 0}",
            f"KVSTACK_WITH_REDIS={1 if self.options.with_redis else 0}",
            f"KVSTACK_WITH_MST={1 if self.options.with_mst else 0}",
        ]
