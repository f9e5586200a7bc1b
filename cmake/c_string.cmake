# c_string_literal(VAR TEXT): VAR is TEXT as C string literals, one a line (each line of
# the text its own literal, ending in \n), for a header made by configure_file.
function(c_string_literal var text)
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\t" "\\t" text "${text}")
  string(REPLACE "\n" "\\n\"\n\t\"" text "${text}")
  set(${var} "\t\"${text}\"" PARENT_SCOPE)
endfunction()

# c_string_file(VAR FILE): the same of FILE's text; the file becomes a configure
# dependency, so that a change to it makes the header again.
function(c_string_file var file)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  file(READ ${file} text)
  c_string_literal(literal "${text}")
  set(${var} "${literal}" PARENT_SCOPE)
endfunction()
