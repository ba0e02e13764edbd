// taskdist's sample scene for `make run`: a glass sphere and a mirror torus on a checkered floor
// under a graded sky. Quick at the default size, and busy enough that bands differ in cost.
#version 3.7;
#include "colors.inc"
global_settings { assumed_gamma 1.0 max_trace_level 8 }

camera { location <0, 2.2, -7> look_at <0, 0.8, 0> angle 55 }
light_source { <-5, 10, -8> color rgb 1 }
light_source { <6, 4, -6> color rgb 0.4 }

sky_sphere {
  pigment { gradient y color_map { [0 color rgb <0.85, 0.9, 1>] [1 color rgb <0.25, 0.45, 0.85>] } }
}
plane {
  y, 0
  texture {
    pigment { checker color rgb 0.9 color rgb <0.15, 0.2, 0.35> scale 0.8 }
    finish { reflection 0.15 specular 0.3 }
  }
}
sphere {
  <-1.2, 1, 0>, 1
  texture { pigment { rgbf <0.95, 1, 0.97, 0.92> } finish { specular 0.9 roughness 0.001 reflection 0.1 } }
  interior { ior 1.5 }
}
torus {
  0.8, 0.3 rotate <70, 20, 0> translate <1.5, 1.1, 0.6>
  texture { pigment { Gold } finish { reflection 0.7 specular 0.8 metallic } }
}
sphere { <0.3, 0.35, -1.6>, 0.35 texture { pigment { Red } finish { phong 0.8 } } }
