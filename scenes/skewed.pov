// taskdist's skewed scene: an empty sky over a costly cluster of glass and mirror spheres that
// fills only the bottom fifth of the frame. Nearly all of the tracing cost sits in those rows,
// so an equal split of rows (the paper's static policy) leaves most slots idle.
#version 3.7;
global_settings { assumed_gamma 1.0 max_trace_level 12 }

camera {
  location <0, 1.6, -9>
  look_at <0, 2.1, 0>
  angle 50
}
light_source { <-6, 12, -10> color rgb 1 }
light_source { <8, 6, -4> color rgb 0.5 }
background { color rgb <0.45, 0.62, 0.9> }

#declare Glass = material {
  texture { pigment { rgbf <0.95, 0.98, 1, 0.9> } finish { reflection 0.1 specular 0.8 roughness 0.002 } }
  interior { ior 1.5 }
}
#declare Mirror = texture { pigment { rgb <0.9, 0.85, 0.7> } finish { reflection 0.8 specular 0.6 } }

// Three staggered rows of spheres, low in the frame.
#declare Row = 0;
#while (Row < 3)
  #declare I = -9;
  #while (I <= 9)
    #declare X = I * 0.55 + mod(Row, 2) * 0.27;
    #declare Z = Row * 0.6;
    #if (mod(I + Row, 2) = 0)
      sphere { <X, -0.55 + Row * 0.12, Z>, 0.3 material { Glass } }
    #else
      sphere { <X, -0.55 + Row * 0.12, Z>, 0.3 texture { Mirror } }
    #end
    #declare I = I + 1;
  #end
  #declare Row = Row + 1;
#end
