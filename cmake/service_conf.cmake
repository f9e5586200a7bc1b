# The installed example lwm2md.conf: `lwm2md --print-config` (every setting, commented out
# at its default, from the options table of src/daemon/config.c) with the registry set
# to the service's state directory. Run as: cmake -DLWM2MD=<binary> -DOUT=<file> -P this.
execute_process(COMMAND ${LWM2MD} --print-config OUTPUT_VARIABLE conf RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${LWM2MD} --print-config failed: ${rc}")
endif()
set(from "#db = var/lwm2md.db\n")
string(FIND "${conf}" "${from}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "lwm2md --print-config has no '${from}' line")
endif()
string(REPLACE "${from}"
  "# (the service's state directory; systemd's StateDirectory=lwm2md)\ndb = /var/lib/lwm2md/lwm2md.db\n"
  conf "${conf}")
file(WRITE ${OUT}.new "${conf}")
configure_file(${OUT}.new ${OUT} COPYONLY)
file(REMOVE ${OUT}.new)
